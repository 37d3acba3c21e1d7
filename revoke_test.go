package oauth2server_test

import (
	"context"
	stderrors "errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// accessOnly has the core methods and GetAccessToken, but no RevokeToken:
// it can look up access tokens but not revoke them.
type accessOnly struct{ coreOnly }

func (a accessOnly) GetAccessToken(ctx context.Context, tok string) (*oauth2server.Token, error) {
	return a.m.GetAccessToken(ctx, tok)
}

// faulty fails the named lookups, to check that faults are 503 and never
// "unknown token".
type faulty struct {
	*memorymodel.Model
	failRefresh, failAccess, failJTI bool
}

var errStore = stderrors.New("store down")

func (f *faulty) GetRefreshToken(ctx context.Context, tok string) (*oauth2server.Token, error) {
	if f.failRefresh {
		return nil, errStore
	}
	return f.Model.GetRefreshToken(ctx, tok)
}

func (f *faulty) GetAccessToken(ctx context.Context, tok string) (*oauth2server.Token, error) {
	if f.failAccess {
		return nil, errStore
	}
	return f.Model.GetAccessToken(ctx, tok)
}

func (f *faulty) IsJTIRevoked(ctx context.Context, jti string) (bool, error) {
	if f.failJTI {
		return false, errStore
	}
	return f.Model.IsJTIRevoked(ctx, jti)
}

func (f *faulty) RevokeJTI(ctx context.Context, jti string, exp time.Time) error {
	if f.failJTI {
		return errStore
	}
	return f.Model.RevokeJTI(ctx, jti, exp)
}

func assertRevoked200(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Empty(t, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))
}

func assertOAuthError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	assert.Equal(t, code, decode(t, rec)["error"])
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
}

// revoking a refresh token revokes the family at once.
func TestRevokeRefreshTokenRevokesFamily(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	at, rt := e.codeFlow("app", "app-secret", "user-1")
	// A second generation of the same family.
	rec := e.refresh("app", "app-secret", rt)
	require.Equal(t, http.StatusOK, rec.Code)
	body := decode(t, rec)
	at2, rt2 := body["access_token"].(string), body["refresh_token"].(string)
	require.NoError(t, e.valid(at2))

	assertRevoked200(t, e.revoke(rt2, "refresh_token", "app", "app-secret"))

	assertOAuthError(t, e.refresh("app", "app-secret", rt2), http.StatusBadRequest, "invalid_grant")
	for _, tok := range []string{at, at2} {
		err := e.valid(tok)
		require.ErrorIs(t, err, oerrors.ErrInvalidToken)
		assert.Equal(t, "The access token was revoked.", oerrors.From(err).Description)
	}
}

// an access token is revoked at once; R-82 MAY: the refresh
// token of the same record goes with it.
func TestRevokeAccessToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	at, rt := e.codeFlow("app", "app-secret", "user-1")
	assertRevoked200(t, e.revoke(at, "access_token", "app", "app-secret"))
	assert.ErrorIs(t, e.valid(at), oerrors.ErrInvalidToken)
	assertOAuthError(t, e.refresh("app", "app-secret", rt), http.StatusBadRequest, "invalid_grant")
	// Revoking again is still success.
	assertRevoked200(t, e.revoke(at, "access_token", "app", "app-secret"))
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
			e := newEnv(t, nil, nil)
			at, rt := e.codeFlow("app", "app-secret", "user-1")
			tok := at
			if tc.refresh {
				tok = rt
			}
			assertRevoked200(t, e.revoke(tok, tc.givenHint, "app", "app-secret"))
			assert.ErrorIs(t, e.valid(at), oerrors.ErrInvalidToken)
			assertOAuthError(t, e.refresh("app", "app-secret", rt), http.StatusBadRequest, "invalid_grant")
		})
	}
}

// R-80, SECURITY Part 2 §8: a token of another client is refused with
// invalid_grant and stays valid.
func TestRevokeOtherClientsToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	at, rt := e.codeFlow("app", "app-secret", "user-1")
	for _, tc := range []struct{ name, token, hint string }{
		{"nok, refresh token", rt, ""},
		{"nok, access token", at, "access_token"},
		{"nok, access token without hint", at, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertOAuthError(t, e.revoke(tc.token, tc.hint, "other", "other-secret"), http.StatusBadRequest, "invalid_grant")
			assertOAuthError(t, e.revoke(tc.token, tc.hint, "spa", ""), http.StatusBadRequest, "invalid_grant")
		})
	}
	require.NoError(t, e.valid(at))
	assert.Equal(t, http.StatusOK, e.refresh("app", "app-secret", rt).Code)
}

// client authentication and request validation.
func TestRevokeRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	_, spaRT := e.codeFlow("spa", "", "user-1")

	t.Run("ok, public client revokes its token with client_id", func(t *testing.T) {
		assertRevoked200(t, e.revoke(spaRT, "", "spa", ""))
		assertOAuthError(t, e.refresh("spa", "", spaRT), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("ok, unknown token is success", func(t *testing.T) {
		assertRevoked200(t, e.revoke("no-such-token", "", "app", "app-secret"))
		assertRevoked200(t, e.revoke("no-such-token", "access_token", "app", "app-secret"))
	})
	t.Run("nok, no client", func(t *testing.T) {
		assertOAuthError(t, e.revoke("x", "", "", ""), http.StatusUnauthorized, "invalid_client")
	})
	t.Run("nok, wrong secret with Basic: 401 and a challenge", func(t *testing.T) {
		rec := e.revoke("x", "", "app", "wrong")
		assertOAuthError(t, rec, http.StatusUnauthorized, "invalid_client")
		assert.Contains(t, rec.Header().Get("WWW-Authenticate"), "Basic")
	})
	t.Run("nok, confidential client without its secret", func(t *testing.T) {
		assertOAuthError(t, e.revoke("x", "", "app", ""), http.StatusUnauthorized, "invalid_client")
	})
	t.Run("nok, missing token", func(t *testing.T) {
		rec := e.post("/revoke", url.Values{}, "app", "app-secret")
		assertOAuthError(t, rec, http.StatusBadRequest, "invalid_request")
	})
	t.Run("nok, repeated token", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/revoke", strings.NewReader("token=a&token=b"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("app", "app-secret")
		rec := httptest.NewRecorder()
		e.e.ServeHTTP(rec, req)
		assertOAuthError(t, rec, http.StatusBadRequest, "invalid_request")
	})
	t.Run("nok, token in the query is not read", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/revoke?token=abc", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("app", "app-secret")
		rec := httptest.NewRecorder()
		e.e.ServeHTTP(rec, req)
		assertOAuthError(t, rec, http.StatusBadRequest, "invalid_request")
	})
	t.Run("nok, GET", func(t *testing.T) {
		assert.Equal(t, http.StatusMethodNotAllowed, e.get("/revoke?token=abc").Code)
	})
	// the body cap of the token endpoint applies here too.
	t.Run("nok, oversized body", func(t *testing.T) {
		rec := e.post("/revoke", url.Values{"token": {strings.Repeat("a", 70<<10)}}, "app", "app-secret")
		assertOAuthError(t, rec, http.StatusRequestEntityTooLarge, "invalid_request")
	})
}

// unsupported_token_type only for access tokens a server cannot
// revoke; model faults are 503 (the token still exists).
func TestRevokeUnsupportedAndFaults(t *testing.T) {
	t.Parallel()
	t.Run("nok, access token found but no RevokeToken", func(t *testing.T) {
		e := newEnv(t, func(m *memorymodel.Model) oauth2server.Model { return accessOnly{coreOnly{m}} }, nil)
		at := e.clientCredentials("app", "app-secret")
		assertOAuthError(t, e.revoke(at, "", "app", "app-secret"), http.StatusBadRequest, "unsupported_token_type")
		assertOAuthError(t, e.revoke(at, "access_token", "app", "app-secret"), http.StatusBadRequest, "unsupported_token_type")
		require.NoError(t, e.valid(at))
	})
	t.Run("nok, access_token hint on a server that cannot revoke access tokens", func(t *testing.T) {
		e := newEnv(t, func(m *memorymodel.Model) oauth2server.Model { return coreOnly{m} }, func(o *oauth2server.Options) { o.Grants = []string{} })
		assertOAuthError(t, e.revoke("whatever", "access_token", "app", "app-secret"), http.StatusBadRequest, "unsupported_token_type")
		// Without the hint the token is just unknown.
		assertRevoked200(t, e.revoke("whatever", "", "app", "app-secret"))
	})
	t.Run("nok, refresh lookup fault", func(t *testing.T) {
		e := newEnv(t, func(m *memorymodel.Model) oauth2server.Model { return &faulty{Model: m, failRefresh: true} }, nil)
		rec := e.revoke("x", "", "app", "app-secret")
		assertOAuthError(t, rec, http.StatusServiceUnavailable, "server_error")
		assert.NotContains(t, rec.Body.String(), "store down")
	})
	t.Run("nok, access lookup fault", func(t *testing.T) {
		e := newEnv(t, func(m *memorymodel.Model) oauth2server.Model { return &faulty{Model: m, failAccess: true} }, nil)
		assertOAuthError(t, e.revoke("x", "access_token", "app", "app-secret"), http.StatusServiceUnavailable, "server_error")
	})
	t.Run("nok, deny-list fault", func(t *testing.T) {
		_, keyPEM := genKey(t, "ES256")
		e := newEnv(t, func(m *memorymodel.Model) oauth2server.Model { return &faulty{Model: m, failJTI: true} },
			withJWT(oauth2server.SigningKey{PEM: keyPEM}))
		at := e.clientCredentials("app", "app-secret")
		assertOAuthError(t, e.revoke(at, "access_token", "app", "app-secret"), http.StatusServiceUnavailable, "server_error")
		err := e.valid(at)
		assert.True(t, oerrors.IsServerError(err))
		assertOAuthError(t, e.introspect(at, ""), http.StatusServiceUnavailable, "server_error")
	})
}

// ValidateAccessToken for opaque tokens: precise invalid_token
// descriptions.
func TestValidateAccessTokenOpaque(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	at := e.clientCredentials("app", "app-secret")
	revoked := e.clientCredentials("other", "other-secret")
	assertRevoked200(t, e.revoke(revoked, "", "other", "other-secret"))
	expired := e.clientCredentials("app", "app-secret")

	tok, err := e.srv.ValidateAccessToken(context.Background(), at)
	require.NoError(t, err)
	assert.Equal(t, "app", tok.ClientID)

	e.clock.Advance(time.Hour)
	for _, tc := range []struct{ name, token, desc string }{
		{"nok, missing", "", "The access token is missing."},
		{"nok, unknown", "nope", "The access token is unknown."},
		{"nok, revoked", revoked, "The access token was revoked."},
		{"nok, expired", expired, "The access token has expired."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.valid(tc.token)
			require.ErrorIs(t, err, oerrors.ErrInvalidToken)
			assert.Equal(t, tc.desc, oerrors.From(err).Description)
		})
	}
	t.Run("nok, no AccessTokenModel", func(t *testing.T) {
		// An opaque-token server cannot check tokens without the model:
		// it fails closed with server_error, naming the interface in logs.
		// Only possible for a server that issues no tokens: New refuses
		// the others.
		e := newEnv(t, func(m *memorymodel.Model) oauth2server.Model { return coreOnly{m} }, func(o *oauth2server.Options) { o.Grants = []string{} })
		assert.False(t, e.srv.CanVerifyAccessTokens())
		assert.True(t, oerrors.IsServerError(e.valid("x")))
	})
	t.Run("nok, model fault", func(t *testing.T) {
		e := newEnv(t, func(m *memorymodel.Model) oauth2server.Model { return &faulty{Model: m, failAccess: true} }, nil)
		assert.True(t, oerrors.IsServerError(e.valid("x")))
	})
}
