package interop

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"
)

// nonceKey carries the nonce of the request being called back to the ID
// token verifier of the zitadel relying party.
type nonceKey struct{}

// zitadelResult is what the zitadel relying party's callback answers: the
// verified ID token and the UserInfo answer.
type zitadelResult struct {
	Subject      string   `json:"sub"`
	Issuer       string   `json:"iss"`
	Audience     []string `json:"aud"`
	Nonce        string   `json:"nonce"`
	AMR          []string `json:"amr"`
	AuthTime     int64    `json:"auth_time"`
	RefreshToken string   `json:"refresh_token"`
	InfoSubject  string   `json:"info_sub"`
	Email        string   `json:"email"`
	Name         string   `json:"name"`
}

// The relying party of github.com/zitadel/oidc (pkg/client/rp) against the
// example, with its own HTTP handlers: NewRelyingPartyOIDC discovers the
// provider; AuthURLHandler starts the request with PKCE (S256) and a state
// in its cookies, and the nonce the test adds; CodeExchangeHandler checks
// the state, redeems the code, verifies the ID token (signature from the
// JWK Set, iss, aud, exp, iat, the nonce, at_hash) and UserinfoCallback
// asks UserInfo and checks its sub. Then RefreshTokens verifies the ID
// token of a refresh.
func TestZitadelRP(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	mux := http.NewServeMux()
	rpSrv := httptest.NewUnstartedServer(mux)
	rpURL := "http://" + rpSrv.Listener.Addr().String()
	c := rpClient("zitadel-rp", "zitadel-secret", rpURL+"/callback")
	o := startOP(t, c)

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	cookies := httphelper.NewCookieHandler(key, key, httphelper.WithUnsecure())
	relying, err := rp.NewRelyingPartyOIDC(ctx, o.issuer, c.ID, c.Secret, c.Redirect[0],
		[]string{oidc.ScopeOpenID, "profile", "email"},
		rp.WithPKCE(cookies),
		rp.WithSigningAlgsFromDiscovery(),
		rp.WithVerifierOpts(rp.WithNonce(func(ctx context.Context) string {
			n, _ := ctx.Value(nonceKey{}).(string)
			return n
		})))
	require.NoError(t, err, "discovery")
	assert.Equal(t, o.issuer+"/oauth/userinfo", relying.UserinfoEndpoint())
	assert.True(t, relying.IsPKCE())

	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		nonce := oauth2.GenerateVerifier()
		if err := cookies.SetCookie(w, "nonce", nonce); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		rp.AuthURLHandler(oauth2.GenerateVerifier, relying, rp.WithURLParam("nonce", nonce))(w, r)
	})
	exchange := rp.CodeExchangeHandler(rp.UserinfoCallback(func(w http.ResponseWriter, _ *http.Request,
		tokens *oidc.Tokens[*oidc.IDTokenClaims], _ string, _ rp.RelyingParty, info *oidc.UserInfo) {
		id := tokens.IDTokenClaims
		_ = json.NewEncoder(w).Encode(zitadelResult{Subject: id.Subject, Issuer: id.Issuer, Audience: id.Audience,
			Nonce: id.Nonce, AMR: id.AuthenticationMethodsReferences, AuthTime: id.AuthTime.AsTime().Unix(),
			RefreshToken: tokens.RefreshToken, InfoSubject: info.Subject, Email: info.Email, Name: info.Name})
	}), relying)
	mux.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		nonce, err := cookies.CheckCookie(r, "nonce")
		if err != nil {
			http.Error(w, "no nonce: "+err.Error(), http.StatusBadRequest)
			return
		}
		cookies.DeleteCookie(w, "nonce")
		exchange(w, r.WithContext(context.WithValue(r.Context(), nonceKey{}, nonce)))
	})
	rpSrv.Start()
	t.Cleanup(rpSrv.Close)

	ua := newUserAgent(t)
	callback := ua.visit(rpURL+"/login", c.Redirect[0])
	assert.Equal(t, []string{"login", "consent"}, ua.pages)
	resp, body := ua.do(http.MethodGet, callback.String(), nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var got zitadelResult
	require.NoError(t, json.Unmarshal([]byte(body), &got), body)
	assert.Equal(t, userID, got.Subject)
	assert.Equal(t, o.issuer, got.Issuer)
	assert.Equal(t, []string{c.ID}, got.Audience)
	assert.NotEmpty(t, got.Nonce)
	assert.Equal(t, []string{"pwd"}, got.AMR)
	assert.WithinDuration(t, time.Now(), time.Unix(got.AuthTime, 0), time.Minute)
	assert.Equal(t, userID, got.InfoSubject)
	assert.Equal(t, userEmail, got.Email)
	assert.Equal(t, userName, got.Name)
	require.NotEmpty(t, got.RefreshToken)

	// The same callback URL again: the state cookie is spent.
	resp, _ = ua.do(http.MethodGet, callback.String(), nil)
	assert.NotEqual(t, http.StatusOK, resp.StatusCode)

	refreshed, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, relying, got.RefreshToken, "", "")
	require.NoError(t, err, "the refreshed ID token verifies")
	require.NotNil(t, refreshed.IDTokenClaims)
	assert.Equal(t, got.Subject, refreshed.IDTokenClaims.Subject)
	assert.Empty(t, refreshed.IDTokenClaims.Nonce, "R-131")
	assert.Equal(t, got.AuthTime, refreshed.IDTokenClaims.AuthTime.AsTime().Unix())
	info, err := rp.Userinfo[*oidc.UserInfo](ctx, refreshed.AccessToken, refreshed.TokenType, got.Subject, relying)
	require.NoError(t, err)
	assert.Equal(t, userEmail, info.Email)
}
