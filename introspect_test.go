package oauth2server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// assertInactive checks the exact inactive answer: no other member.
func assertInactive(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, `{"active":false}`, strings.TrimSpace(rec.Body.String()))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
}

// an active opaque access token with its members.
func TestIntrospectActiveOpaque(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	at, _ := e.codeFlow(confID, confSecret, "user-1")
	rec := e.introspect(at, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))
	now := e.clock.Now().Unix()
	assert.Equal(t, map[string]any{
		"active": true, "scope": "read", "client_id": confID, "sub": "user-1", "token_type": "Bearer",
		"exp": float64(now + 3600), "iat": float64(now), "nbf": float64(now),
		"aud": testAudience, "iss": testIssuer,
	}, decode(t, rec))

	// Without a user, sub is the client.
	cc := e.clientCredentials(otherID, otherSecret)
	body := decode(t, e.introspect(cc, "access_token"))
	assert.Equal(t, otherID, body["sub"])
	assert.Equal(t, "read write", body["scope"])
}

// an active JWT access token, with jti.
func TestIntrospectActiveJWT(t *testing.T) {
	t.Parallel()
	_, keyPEM := genKey(t, "RS256")
	e := newTestEnv(t, withJWT(oauth2server.SigningKey{PEM: keyPEM}))
	at, _ := e.codeFlow(confID, confSecret, "user-1")
	_, claims := jwtParts(t, at)
	body := decode(t, e.introspect(at, ""))
	now := e.clock.Now().Unix()
	assert.Equal(t, map[string]any{
		"active": true, "scope": "read", "client_id": confID, "sub": "user-1", "token_type": "Bearer",
		"exp": float64(now + 3600), "iat": float64(now), "nbf": float64(now),
		"aud": testAudience, "iss": testIssuer, "jti": claims["jti"],
	}, body)

	// no leeway at the authorization server.
	e.clock.Advance(time.Hour)
	assertInactive(t, e.introspect(at, ""))
	require.NoError(t, e.valid(at), "the resource server's leeway still accepts it")
}

// anything inactive, unknown or not visible is exactly
// {"active":false}.
func TestIntrospectInactive(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	_, rtOther := e.codeFlow(otherID, otherSecret, "user-1")
	revokedAT, revokedRT := e.codeFlow(confID, confSecret, "user-2")
	require.Equal(t, http.StatusOK, e.revoke(revokedRT, "", confID, confSecret).Code)
	expiredAT, _ := e.codeFlow(confID, confSecret, "user-3")
	e.clock.Advance(time.Hour)

	for _, tc := range []struct{ name, token, hint string }{
		{"nok, unknown", "no-such-token", ""},
		{"nok, unknown with hint", "no-such-token", "refresh_token"},
		{"nok, revoked access token", revokedAT, ""},
		{"nok, revoked refresh token", revokedRT, "refresh_token"},
		{"nok, expired access token", expiredAT, "access_token"},
		{"nok, refresh token of another client", rtOther, "refresh_token"},
		{"nok, forged JWT-looking token", "eyJhbGciOiJub25lIn0.e30.", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertInactive(t, e.introspect(tc.token, tc.hint))
		})
	}
}

// A refresh token is visible to the client it was issued to; it has no
// token_type. The hint only orders the search.
func TestIntrospectOwnRefreshToken(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	require.NoError(t, e.model.AddClient(context.Background(), &oauth2server.Client{ID: "rs-app", SecretHash: oauth2server.HashSecret("rs-app-secret"),
		Introspect: true, RedirectURIs: []string{testRedirect}, Grants: []string{"authorization_code", "refresh_token"},
		Scopes: []string{"read"}}))
	at, rt := e.codeFlow("rs-app", "rs-app-secret", "user-1")
	ask := func(token, hint string) *httptest.ResponseRecorder {
		f := url.Values{"token": {token}}
		if hint != "" {
			f.Set("token_type_hint", hint)
		}
		return e.post("/introspect", f, "rs-app", "rs-app-secret")
	}
	for _, hint := range []string{"", "refresh_token", "access_token", "bogus"} {
		body := decode(t, ask(rt, hint))
		assert.Equal(t, true, body["active"], hint)
		assert.NotContains(t, body, "token_type")
		assert.EqualValues(t, e.clock.Now().Add(oauth2server.DefaultRefreshTokenLifetime).Unix(), body["exp"])
		assert.Equal(t, "read", body["scope"])
		assert.Equal(t, "Bearer", decode(t, ask(at, hint))["token_type"], hint)
	}
	e.clock.Advance(oauth2server.DefaultRefreshTokenLifetime)
	assertInactive(t, ask(rt, "refresh_token"))
}

// only authenticated clients allowed to introspect.
func TestIntrospectCaller(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	at := e.clientCredentials(confID, confSecret)
	tests := []struct {
		name         string
		givenID      string
		givenSecret  string
		expectStatus int
		expectError  string
	}{
		{name: "ok, resource server", givenID: rsID, givenSecret: rsSecret, expectStatus: http.StatusOK},
		{name: "nok, no credentials", expectStatus: http.StatusUnauthorized, expectError: "invalid_client"},
		{name: "nok, wrong secret", givenID: rsID, givenSecret: "nope", expectStatus: http.StatusUnauthorized, expectError: "invalid_client"},
		{name: "nok, unknown client", givenID: "ghost", givenSecret: "x", expectStatus: http.StatusUnauthorized, expectError: "invalid_client"},
		{name: "nok, public client even if flagged", givenID: pubIntrospectID, expectStatus: http.StatusUnauthorized, expectError: "invalid_client"},
		{name: "nok, confidential client without permission", givenID: rsNoPermID, givenSecret: rsNoPermSecret,
			expectStatus: http.StatusForbidden, expectError: "unauthorized_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.post("/introspect", url.Values{"token": {at}}, tc.givenID, tc.givenSecret)
			require.Equal(t, tc.expectStatus, rec.Code, rec.Body.String())
			body := decode(t, rec)
			if tc.expectError == "" {
				assert.Equal(t, true, body["active"])
				return
			}
			assert.Equal(t, tc.expectError, body["error"])
			assert.NotContains(t, body, "active")
			if tc.givenSecret != "" && tc.expectStatus == http.StatusUnauthorized {
				assert.Contains(t, rec.Header().Get("WWW-Authenticate"), "Basic")
			}
		})
	}
	t.Run("nok, missing token", func(t *testing.T) {
		assertOAuthError(t, e.post("/introspect", url.Values{}, rsID, rsSecret), http.StatusBadRequest, "invalid_request")
	})
	t.Run("nok, GET keeps tokens out of URLs", func(t *testing.T) {
		assert.Equal(t, http.StatusMethodNotAllowed, e.get("/introspect?token="+at).Code)
	})
	t.Run("nok, model fault", func(t *testing.T) {
		e := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return &faulty{Model: m, failAccess: true} }))
		assertOAuthError(t, e.introspect("x", ""), http.StatusServiceUnavailable, "server_error")
		e = newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return &faulty{Model: m, failRefresh: true} }))
		assertOAuthError(t, e.introspect("x", ""), http.StatusServiceUnavailable, "server_error")
	})
	t.Run("nok, no lookups available", func(t *testing.T) {
		e := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return minimalModel{m} }),
			withOptions(func(o *oauth2server.Options) { o.Grants = []string{} }))
		assertInactive(t, e.introspect("x", ""))
	})
}

// IntrospectToken answers from Go code what the introspection endpoint
// answers, as the server itself: every token is visible.
func TestIntrospectTokenInCode(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t)
	access, refresh := e.codeFlow(confID, confSecret, "u-1")

	got, err := e.srv.IntrospectToken(ctx, access, "")
	require.NoError(t, err)
	assert.True(t, got.Active)
	assert.Equal(t, confID, got.ClientID)
	assert.Equal(t, "u-1", got.Subject)

	got, err = e.srv.IntrospectToken(ctx, refresh, oauth2server.HintRefreshToken)
	require.NoError(t, err)
	assert.True(t, got.Active, "a refresh token of any client is visible to the server itself")
	assert.Equal(t, confID, got.ClientID)

	got, err = e.srv.IntrospectToken(ctx, "unknown", "")
	require.NoError(t, err)
	assert.Equal(t, &oauth2server.IntrospectionResponse{Active: false}, got)

	_, err = e.srv.IntrospectToken(ctx, "", "")
	assert.Equal(t, "invalid_request", oautherrors.From(err).Code)
}
