package oauth2server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

func assertRevoked200(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Empty(t, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))
}

// revoking a refresh token revokes the family at once.
func TestRevokeRefreshTokenRevokesFamily(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	at, rt := e.codeFlow(confID, confSecret, "user-1")
	// A second generation of the same family.
	rec := e.refresh(confID, confSecret, rt)
	require.Equal(t, http.StatusOK, rec.Code)
	body := decode(t, rec)
	at2, rt2 := body["access_token"].(string), body["refresh_token"].(string)
	require.NoError(t, e.valid(at2))

	assertRevoked200(t, e.revoke(rt2, "refresh_token", confID, confSecret))

	assertOAuthError(t, e.refresh(confID, confSecret, rt2), http.StatusBadRequest, "invalid_grant")
	for _, tok := range []string{at, at2} {
		err := e.valid(tok)
		require.ErrorIs(t, err, oautherrors.ErrInvalidToken)
		assert.Equal(t, "The access token was revoked.", oautherrors.From(err).Description)
	}
}

// an access token is revoked at once; R-82 MAY: the refresh
// token of the same record goes with it.
func TestRevokeAccessToken(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	at, rt := e.codeFlow(confID, confSecret, "user-1")
	assertRevoked200(t, e.revoke(at, "access_token", confID, confSecret))
	assert.ErrorIs(t, e.valid(at), oautherrors.ErrInvalidToken)
	assertOAuthError(t, e.refresh(confID, confSecret, rt), http.StatusBadRequest, "invalid_grant")
	// Revoking again is still success.
	assertRevoked200(t, e.revoke(at, "access_token", confID, confSecret))
}

// the hint orders the search but is not trusted; unknown hints
// are ignored.
func TestRevokeHints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		givenHint string
		refresh   bool // revoke the refresh token (else the access token)
	}{
		{name: "ok, refresh token with access_token hint", givenHint: "access_token", refresh: true},
		{name: "ok, access token with refresh_token hint", givenHint: "refresh_token"},
		{name: "ok, refresh token with unknown hint", givenHint: "id_token", refresh: true},
		{name: "ok, access token with unknown hint", givenHint: "urn:example:whatever"},
		{name: "ok, access token without hint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			at, rt := e.codeFlow(confID, confSecret, "user-1")
			tok := at
			if tc.refresh {
				tok = rt
			}
			assertRevoked200(t, e.revoke(tok, tc.givenHint, confID, confSecret))
			assert.ErrorIs(t, e.valid(at), oautherrors.ErrInvalidToken)
			assertOAuthError(t, e.refresh(confID, confSecret, rt), http.StatusBadRequest, "invalid_grant")
		})
	}
}

// R-80, SECURITY Part 2 §8: a token of another client is refused with
// invalid_grant and stays valid.
func TestRevokeOtherClientsToken(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	at, rt := e.codeFlow(confID, confSecret, "user-1")
	for _, tc := range []struct{ name, token, hint string }{
		{"nok, refresh token", rt, ""},
		{"nok, access token", at, "access_token"},
		{"nok, access token without hint", at, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertOAuthError(t, e.revoke(tc.token, tc.hint, otherID, otherSecret), http.StatusBadRequest, "invalid_grant")
			assertOAuthError(t, e.revoke(tc.token, tc.hint, pubID, ""), http.StatusBadRequest, "invalid_grant")
		})
	}
	require.NoError(t, e.valid(at))
	assert.Equal(t, http.StatusOK, e.refresh(confID, confSecret, rt).Code)
}

// client authentication and request validation.
func TestRevokeRequests(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, spaRT := e.codeFlow(pubID, "", "user-1")

	t.Run("ok, public client revokes its token with client_id", func(t *testing.T) {
		assertRevoked200(t, e.revoke(spaRT, "", pubID, ""))
		assertOAuthError(t, e.refresh(pubID, "", spaRT), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("ok, unknown token is success", func(t *testing.T) {
		assertRevoked200(t, e.revoke("no-such-token", "", confID, confSecret))
		assertRevoked200(t, e.revoke("no-such-token", "access_token", confID, confSecret))
	})
	t.Run("nok, no client", func(t *testing.T) {
		assertOAuthError(t, e.revoke("x", "", "", ""), http.StatusUnauthorized, "invalid_client")
	})
	t.Run("nok, wrong secret with Basic: 401 and a challenge", func(t *testing.T) {
		rec := e.revoke("x", "", confID, "wrong")
		assertOAuthError(t, rec, http.StatusUnauthorized, "invalid_client")
		assert.Contains(t, rec.Header().Get("WWW-Authenticate"), "Basic")
	})
	t.Run("nok, confidential client without its secret", func(t *testing.T) {
		assertOAuthError(t, e.revoke("x", "", confID, ""), http.StatusUnauthorized, "invalid_client")
	})
	t.Run("nok, missing token", func(t *testing.T) {
		rec := e.post("/revoke", url.Values{}, confID, confSecret)
		assertOAuthError(t, rec, http.StatusBadRequest, "invalid_request")
	})
	t.Run("nok, repeated token", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/revoke", strings.NewReader("token=a&token=b"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(confID, confSecret)
		rec := httptest.NewRecorder()
		e.echo.ServeHTTP(rec, req)
		assertOAuthError(t, rec, http.StatusBadRequest, "invalid_request")
	})
	t.Run("nok, token in the query is not read", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/revoke?token=abc", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(confID, confSecret)
		rec := httptest.NewRecorder()
		e.echo.ServeHTTP(rec, req)
		assertOAuthError(t, rec, http.StatusBadRequest, "invalid_request")
	})
	t.Run("nok, GET", func(t *testing.T) {
		assert.Equal(t, http.StatusMethodNotAllowed, e.get("/revoke?token=abc").Code)
	})
	// the body cap of the token endpoint applies here too.
	t.Run("nok, oversized body", func(t *testing.T) {
		rec := e.post("/revoke", url.Values{"token": {strings.Repeat("a", 70<<10)}}, confID, confSecret)
		assertOAuthError(t, rec, http.StatusRequestEntityTooLarge, "invalid_request")
	})
}

// unsupported_token_type only for access tokens a server cannot
// revoke; model faults are 503 (the token still exists).
func TestRevokeUnsupportedAndFaults(t *testing.T) {
	t.Parallel()
	t.Run("nok, access token found but no RevokeToken", func(t *testing.T) {
		e := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return verifyingModel{minimalModel{m}} }))
		at := e.clientCredentials(confID, confSecret)
		assertOAuthError(t, e.revoke(at, "", confID, confSecret), http.StatusBadRequest, "unsupported_token_type")
		assertOAuthError(t, e.revoke(at, "access_token", confID, confSecret), http.StatusBadRequest, "unsupported_token_type")
		require.NoError(t, e.valid(at))
	})
	t.Run("nok, access_token hint on a server that cannot revoke access tokens", func(t *testing.T) {
		e := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return minimalModel{m} }),
			withOptions(func(o *oauth2server.Options) { o.Grants = []string{} }))
		assertOAuthError(t, e.revoke("whatever", "access_token", confID, confSecret), http.StatusBadRequest, "unsupported_token_type")
		// Without the hint the token is just unknown.
		assertRevoked200(t, e.revoke("whatever", "", confID, confSecret))
	})
	t.Run("nok, refresh lookup fault", func(t *testing.T) {
		e := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return &faulty{Model: m, failRefresh: true} }))
		rec := e.revoke("x", "", confID, confSecret)
		assertOAuthError(t, rec, http.StatusServiceUnavailable, "server_error")
		assert.NotContains(t, rec.Body.String(), "store down")
	})
	t.Run("nok, access lookup fault", func(t *testing.T) {
		e := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return &faulty{Model: m, failAccess: true} }))
		assertOAuthError(t, e.revoke("x", "access_token", confID, confSecret), http.StatusServiceUnavailable, "server_error")
	})
	t.Run("nok, deny-list fault", func(t *testing.T) {
		_, keyPEM := genKey(t, "ES256")
		e := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return &faulty{Model: m, failJTI: true} }),
			withJWT(oauth2server.SigningKey{PEM: keyPEM}))
		at := e.clientCredentials(confID, confSecret)
		assertOAuthError(t, e.revoke(at, "access_token", confID, confSecret), http.StatusServiceUnavailable, "server_error")
		err := e.valid(at)
		assert.True(t, oautherrors.IsServerError(err))
		assertOAuthError(t, e.introspect(at, ""), http.StatusServiceUnavailable, "server_error")
	})
}

// RevokeTokenFor revokes on behalf of a client with the rules of the
// revocation endpoint.
func TestRevokeTokenForInCode(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t)
	access, refresh := e.codeFlow(confID, confSecret, "u-1")

	err := e.srv.RevokeTokenFor(ctx, otherID, refresh, "")
	assert.Equal(t, "invalid_grant", oautherrors.From(err).Code, "another client's token")
	require.NoError(t, e.valid(access), "left untouched")

	err = e.srv.RevokeTokenFor(ctx, "nobody", refresh, "")
	assert.Equal(t, "invalid_client", oautherrors.From(err).Code)

	assert.NoError(t, e.srv.RevokeTokenFor(ctx, confID, "unknown", ""), "an unknown token is success")
	_, err = e.srv.IntrospectToken(ctx, refresh, "")
	require.NoError(t, err)

	require.NoError(t, e.srv.RevokeTokenFor(ctx, confID, refresh, oauth2server.HintRefreshToken))
	assert.Error(t, e.valid(access), "the family's access token is revoked too")
	got, err := e.srv.IntrospectToken(ctx, refresh, "")
	require.NoError(t, err)
	assert.False(t, got.Active)

	assert.Equal(t, "invalid_request", oautherrors.From(e.srv.RevokeTokenFor(ctx, confID, "", "")).Code)
}
