package modeltest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// pkceVerifier and pkceChallenge are the S256 test vector of RFC 7636
// Appendix B.
const (
	pkceVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	pkceChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// tokenEndpoint is a Server on the model under test with one confidential
// client.
type tokenEndpoint struct {
	srv    *oauth2server.Server
	client *oauth2server.Client
	secret string
}

// post sends a token request authenticated with HTTP Basic and returns the
// status and the decoded JSON body.
func (e *tokenEndpoint) post(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.client.ID, e.secret)
	rec := httptest.NewRecorder()
	nethttp.Token(e.srv).ServeHTTP(rec, req)
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return rec.Code, body
}

// redeem saves a code for the endpoint's client and redeems it.
func (e *tokenEndpoint) redeem(t *testing.T, codes oauth2server.AuthorizationCodeModel) (*oauth2server.AuthorizationCode, map[string]any) {
	t.Helper()
	code := fullCode()
	code.ClientID = e.client.ID
	code.RedirectURI = e.client.RedirectURIs[0]
	code.CodeChallenge = pkceChallenge
	code.DPoPJKT = "" // the suite's Server has no DPoP
	require.NoError(t, codes.SaveAuthorizationCode(context.Background(), code, e.client, nil))
	status, body := e.post(t, url.Values{"grant_type": {"authorization_code"}, "code": {code.Code},
		"redirect_uri": {code.RedirectURI}, "code_verifier": {pkceVerifier}})
	require.Equal(t, http.StatusOK, status, body)
	require.NotEmpty(t, body["refresh_token"])
	return code, body
}

// seedRefresh saves, with the mandatory SaveToken, a live token with a
// refresh token for the endpoint's client and scope "read write", as the
// Server would after a code exchange, and returns the refresh token: the
// refresh cases need RefreshTokenModel, not codes.
func (e *tokenEndpoint) seedRefresh(t *testing.T, s Setup) string {
	t.Helper()
	issued := time.Now()
	tok := &oauth2server.Token{
		AccessToken: random("at-"), RefreshToken: random("rt-"),
		AccessTokenExpiresAt: issued.Add(time.Hour), RefreshTokenExpiresAt: issued.Add(24 * time.Hour),
		IssuedAt: issued, ClientID: e.client.ID, UserID: random("user-"), Scope: []string{"read", "write"},
		GrantID: random("grant-"),
	}
	require.NoError(t, s.Model.SaveToken(context.Background(), tok, e.client, &oauth2server.User{ID: tok.UserID}))
	return tok.RefreshToken
}

// testServer runs the token endpoint of an [oauth2server.Server] on the
// model: what a model stores must be what the Server needs to read back.
func testServer(t *testing.T, newSetup func(t *testing.T) Setup) {
	ctx := context.Background()
	setup := func(t *testing.T) (Setup, *tokenEndpoint) {
		s := newSetup(t)
		// The Server issues opaque tokens, which it verifies through
		// AccessTokenModel: New refuses a model without it.
		need[oauth2server.AccessTokenModel](t, s, "AccessTokenModel")
		c := fullClient()
		c.TokenEndpointAuthMethod = ""
		c.AccessTokenLifetime, c.RefreshTokenLifetime = 0, 0
		c.DPoPBoundAccessTokens = false // the Server has no DPoP
		require.NoError(t, s.AddClient(ctx, c))
		srv, err := oauth2server.New(s.Model, oauth2server.Options{})
		require.NoError(t, err)
		return s, &tokenEndpoint{srv: srv, client: c, secret: "s3cret"}
	}

	t.Run("ok, client_credentials token is stored", func(t *testing.T) {
		s, e := setup(t)
		status, body := e.post(t, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})
		require.Equal(t, http.StatusOK, status, body)
		at := need[oauth2server.AccessTokenModel](t, s, "AccessTokenModel")
		tok, err := at.GetAccessToken(ctx, body["access_token"].(string))
		require.NoError(t, err)
		require.NotNil(t, tok)
		assert.Equal(t, e.client.ID, tok.ClientID)
		assert.Equal(t, []string{"read"}, tok.Scope)
		assert.False(t, tok.Revoked)
		assert.WithinDuration(t, time.Now().Add(time.Hour), tok.AccessTokenExpiresAt, time.Minute)
	})

	t.Run("ok, a replayed code revokes the tokens it produced", func(t *testing.T) {
		//
		s, e := setup(t)
		codes := need[oauth2server.AuthorizationCodeModel](t, s, "AuthorizationCodeModel")
		refresh := need[oauth2server.RefreshTokenModel](t, s, "RefreshTokenModel")
		code, first := e.redeem(t, codes)
		status, body := e.post(t, url.Values{"grant_type": {"authorization_code"}, "code": {code.Code},
			"redirect_uri": {code.RedirectURI}, "code_verifier": {pkceVerifier}})
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, "invalid_grant", body["error"])
		tok, err := refresh.GetRefreshToken(ctx, first["refresh_token"].(string))
		require.NoError(t, err)
		require.NotNil(t, tok)
		assert.True(t, tok.Revoked)
	})

	t.Run("ok, refresh rotates; reuse revokes the family", func(t *testing.T) {
		//
		s, e := setup(t)
		need[oauth2server.RefreshTokenModel](t, s, "RefreshTokenModel")
		rt1 := e.seedRefresh(t, s)
		status, second := e.post(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}})
		require.Equal(t, http.StatusOK, status, second)
		rt2 := second["refresh_token"].(string)
		assert.NotEqual(t, rt1, rt2)

		status, body := e.post(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}})
		assert.Equal(t, http.StatusBadRequest, status, "reuse of the rotated token")
		assert.Equal(t, "invalid_grant", body["error"])
		status, body = e.post(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt2}})
		assert.Equal(t, http.StatusBadRequest, status, "the family is revoked")
		assert.Equal(t, "invalid_grant", body["error"])
		if at, ok := oauth2server.Capability[oauth2server.AccessTokenModel](s.Model); ok {
			tok, err := at.GetAccessToken(ctx, second["access_token"].(string))
			require.NoError(t, err)
			require.NotNil(t, tok)
			assert.True(t, tok.Revoked, "access token of the family")
		}
	})

	t.Run("ok, narrowed refresh keeps the refresh token's scope", func(t *testing.T) {
		// the new refresh token keeps the original scope.
		s, e := setup(t)
		need[oauth2server.RefreshTokenModel](t, s, "RefreshTokenModel")
		status, narrowed := e.post(t, url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {e.seedRefresh(t, s)}, "scope": {"read"}})
		require.Equal(t, http.StatusOK, status, narrowed)
		assert.Equal(t, "read", narrowed["scope"])
		status, widened := e.post(t, url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {narrowed["refresh_token"].(string)}, "scope": {"read write"}})
		require.Equal(t, http.StatusOK, status, widened)
		assert.Equal(t, "read write", widened["scope"])
	})
}
