package oauth2server_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// header and claims of an issued JWT access
// token; aud is the configured default resource.
func TestJWTAccessTokenClaims(t *testing.T) {
	t.Parallel()
	_, keyPEM := genKey(t, "RS256")
	e := newTestEnv(t, withJWT(oauth2server.SigningKey{PEM: keyPEM, KeyID: "key-1"}))

	t.Run("ok, client_credentials: sub is the client", func(t *testing.T) {
		at := e.clientCredentials(confID, confSecret)
		h, c := jwtParts(t, at)
		assert.Equal(t, "at+jwt", h["typ"])
		assert.Equal(t, "RS256", h["alg"])
		assert.Equal(t, "key-1", h["kid"])
		assert.Equal(t, testIssuer, c["iss"])
		assert.Equal(t, []any{testAudience}, c["aud"])
		assert.Equal(t, confID, c["sub"])
		assert.Equal(t, confID, c["client_id"])
		assert.Equal(t, "read write admin", c["scope"], "the client's registered scopes")
		assert.EqualValues(t, e.clock.Now().Unix(), c["iat"])
		assert.EqualValues(t, e.clock.Now().Add(time.Hour).Unix(), c["exp"])
		require.NotEmpty(t, c["jti"])

		// The record is saved with ID = jti, for revocation and introspection.
		rec, err := e.model.GetAccessToken(context.Background(), at)
		require.NoError(t, err)
		require.NotNil(t, rec)
		assert.Equal(t, c["jti"], rec.ID)

		tok, err := e.srv.ValidateAccessToken(context.Background(), at)
		require.NoError(t, err)
		assert.Equal(t, confID, tok.ClientID)
		assert.Empty(t, tok.UserID)
		assert.Equal(t, []string{"read", "write", "admin"}, tok.Scope)
		assert.Equal(t, c["jti"], tok.ID)
	})
	t.Run("ok, user token: sub is the user, jti unique", func(t *testing.T) {
		at1, _ := e.codeFlow(confID, confSecret, "user-1")
		at2, _ := e.codeFlow(confID, confSecret, "user-1")
		_, c1 := jwtParts(t, at1)
		_, c2 := jwtParts(t, at2)
		assert.Equal(t, "user-1", c1["sub"])
		assert.Equal(t, "read", c1["scope"])
		assert.NotEqual(t, c1["jti"], c2["jti"])
		tok, err := e.srv.ValidateAccessToken(context.Background(), at1)
		require.NoError(t, err)
		assert.Equal(t, "user-1", tok.UserID)
	})
	// when sub equals client_id the verifier cannot tell a user from
	// the client, and fails safe: the token has no user.
	t.Run("ok, sub colliding with the client id means no user", func(t *testing.T) {
		at, _ := e.codeFlow(confID, confSecret, confID)
		tok, err := e.srv.ValidateAccessToken(context.Background(), at)
		require.NoError(t, err)
		assert.Empty(t, tok.UserID)
		assert.Equal(t, confID, tok.ClientID)
	})
}

// signed makes a JWT with our own key but chosen header and claims.
func signed(t *testing.T, method jwt.SigningMethod, key any, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	raw, err := tok.SignedString(key)
	require.NoError(t, err)
	return raw
}

// the verifier rejects every malformed or foreign
// JWT with invalid_token, and introspection reports it inactive.
func TestJWTVerificationRejects(t *testing.T) {
	t.Parallel()
	rsaKey, rsaPEM := genKey(t, "RS256")
	ecKey, ecPEM := genKey(t, "ES256")
	otherKey, _ := genKey(t, "RS256")
	e := newTestEnv(t, withJWT(oauth2server.SigningKey{PEM: rsaPEM, KeyID: "rsa", Active: true},
		oauth2server.SigningKey{PEM: ecPEM, KeyID: "ec"}))
	now := e.clock.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "sub": "user-1", "client_id": confID,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "jti-1", "scope": "read"}
		if mod != nil {
			mod(c)
		}
		return c
	}
	hdr := map[string]any{"typ": "at+jwt", "kid": "rsa"}
	pubDER, err := x509.MarshalPKIXPublicKey(rsaKey.Public())
	require.NoError(t, err)
	pubPEM := []byte(publicPEM(t, rsaKey.Public()))

	tests := []struct {
		name       string
		givenToken string
		expectDesc string // "" = accepted
	}{
		{name: "ok, well-formed token", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey, hdr, claims(nil))},
		{name: "ok, typ application/at+jwt", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey,
			map[string]any{"typ": "application/at+jwt", "kid": "rsa"}, claims(nil))},
		{name: "ok, previous EC key verifies", givenToken: signed(t, jwt.SigningMethodES256, ecKey,
			map[string]any{"typ": "at+jwt", "kid": "ec"}, claims(nil))},
		{name: "ok, expired within the leeway", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey, hdr,
			claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() }))},
		{name: "nok, alg none", givenToken: signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, hdr, claims(nil)),
			expectDesc: "invalid"},
		{name: "nok, HS256 with the public key PEM as secret", givenToken: signed(t, jwt.SigningMethodHS256, pubPEM, hdr, claims(nil)),
			expectDesc: "invalid"},
		{name: "nok, HS256 with the public key DER as secret", givenToken: signed(t, jwt.SigningMethodHS256, pubDER, hdr, claims(nil)),
			expectDesc: "invalid"},
		{name: "nok, typ JWT", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey,
			map[string]any{"typ": "JWT", "kid": "rsa"}, claims(nil)), expectDesc: "invalid"},
		{name: "nok, no typ", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey,
			map[string]any{"typ": nil, "kid": "rsa"}, claims(nil)), expectDesc: "invalid"},
		{name: "nok, unknown kid", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey,
			map[string]any{"typ": "at+jwt", "kid": "nope"}, claims(nil)), expectDesc: "invalid"},
		{name: "nok, no kid", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey,
			map[string]any{"typ": "at+jwt"}, claims(nil)), expectDesc: "invalid"},
		{name: "nok, EC kid with RS256", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey,
			map[string]any{"typ": "at+jwt", "kid": "ec"}, claims(nil)), expectDesc: "invalid"},
		{name: "nok, signed by a foreign key", givenToken: signed(t, jwt.SigningMethodRS256, otherKey, hdr, claims(nil)),
			expectDesc: "invalid"},
		{name: "nok, wrong iss", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey, hdr,
			claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com" })), expectDesc: "invalid"},
		{name: "nok, iss with trailing slash", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey, hdr,
			claims(func(c jwt.MapClaims) { c["iss"] = testIssuer + "/" })), expectDesc: "invalid"},
		// a token for another resource is refused.
		{name: "nok, wrong aud", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey, hdr,
			claims(func(c jwt.MapClaims) { c["aud"] = "https://other-api.example.com" })), expectDesc: "invalid"},
		{name: "nok, expired beyond the leeway", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey, hdr,
			claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() })), expectDesc: "expired"},
		{name: "nok, no exp", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey, hdr,
			claims(func(c jwt.MapClaims) { delete(c, "exp") })), expectDesc: "invalid"},
		{name: "nok, issued in the future", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey, hdr,
			claims(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() })), expectDesc: "invalid"},
		{name: "nok, no jti", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey, hdr,
			claims(func(c jwt.MapClaims) { delete(c, "jti") })), expectDesc: "invalid"},
		{name: "nok, no client_id", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey, hdr,
			claims(func(c jwt.MapClaims) { delete(c, "client_id") })), expectDesc: "invalid"},
		{name: "nok, malformed scope", givenToken: signed(t, jwt.SigningMethodRS256, rsaKey, hdr,
			claims(func(c jwt.MapClaims) { c["scope"] = "a\"b" })), expectDesc: "invalid"},
		{name: "nok, garbage", givenToken: "a.b.c", expectDesc: "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := e.srv.ValidateAccessToken(context.Background(), tc.givenToken)
			if tc.expectDesc == "" {
				require.NoError(t, err)
				assert.Equal(t, "user-1", tok.UserID)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, oerrors.ErrInvalidToken)
			assert.Contains(t, oerrors.From(err).Description, tc.expectDesc)
			rec := e.introspect(tc.givenToken, "")
			require.Equal(t, http.StatusOK, rec.Code)
			assert.JSONEq(t, `{"active":false}`, rec.Body.String())
		})
	}
}

// SECURITY Part 2 §8: revoking a JWT deny-lists its jti until it
// expires; revoking its family (refresh revocation, refresh reuse, code
// replay) reaches it too.
func TestJWTRevocation(t *testing.T) {
	t.Parallel()
	_, keyPEM := genKey(t, "EdDSA")
	e := newTestEnv(t, withJWT(oauth2server.SigningKey{PEM: keyPEM}))

	t.Run("ok, revoking the JWT", func(t *testing.T) {
		at, rt := e.codeFlow(confID, confSecret, "user-1")
		require.NoError(t, e.valid(at))
		rec := e.revoke(at, "access_token", confID, confSecret)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		err := e.valid(at)
		require.ErrorIs(t, err, oerrors.ErrInvalidToken)
		assert.Equal(t, "The access token was revoked.", oerrors.From(err).Description)
		assert.JSONEq(t, `{"active":false}`, e.introspect(at, "").Body.String())
		// The refresh token issued with it goes too (RFC 7009 §2.1 MAY).
		assert.Equal(t, http.StatusBadRequest, e.refresh(confID, confSecret, rt).Code)
	})
	t.Run("ok, revoking the refresh token kills the JWT", func(t *testing.T) {
		at, rt := e.codeFlow(confID, confSecret, "user-2")
		require.Equal(t, http.StatusOK, e.revoke(rt, "", confID, confSecret).Code)
		assert.ErrorIs(t, e.valid(at), oerrors.ErrInvalidToken)
		assert.JSONEq(t, `{"active":false}`, e.introspect(at, "").Body.String())
	})
	t.Run("ok, refresh token reuse kills the newest JWT", func(t *testing.T) {
		_, rt := e.codeFlow(confID, confSecret, "user-3")
		rec := e.refresh(confID, confSecret, rt)
		require.Equal(t, http.StatusOK, rec.Code)
		at2 := decode(t, rec)["access_token"].(string)
		require.NoError(t, e.valid(at2))
		require.Equal(t, http.StatusBadRequest, e.refresh(confID, confSecret, rt).Code) // reuse
		assert.ErrorIs(t, e.valid(at2), oerrors.ErrInvalidToken)
	})
	t.Run("nok, another client cannot revoke the JWT", func(t *testing.T) {
		at, _ := e.codeFlow(confID, confSecret, "user-4")
		rec := e.revoke(at, "access_token", otherID, otherSecret)
		assert.Equal(t, http.StatusBadRequest, rec.Code)
		assert.Equal(t, "invalid_grant", decode(t, rec)["error"])
		assert.NoError(t, e.valid(at))
	})
	t.Run("ok, an expired or forged JWT is an unknown token", func(t *testing.T) {
		at := e.clientCredentials(confID, confSecret)
		forged := at[:len(at)-4] + "AAAA"
		assert.Equal(t, http.StatusOK, e.revoke(forged, "access_token", confID, confSecret).Code)
		assert.NoError(t, e.valid(at))
	})
}
