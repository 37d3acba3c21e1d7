package oauth2server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

func TestNewJWTOptions(t *testing.T) {
	t.Parallel()
	rsaKey, rsaPEM := genKey(t, "RS256")
	_, ecPEM := genKey(t, "ES256")
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	smallDER, err := x509.MarshalPKCS8PrivateKey(small)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	p384DER, err := x509.MarshalPKCS8PrivateKey(p384)
	require.NoError(t, err)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey.(*rsa.PrivateKey))}))
	ecKey, _ := genKey(t, "ES256")
	sec1DER, err := x509.MarshalECPrivateKey(ecKey.(*ecdsa.PrivateKey))
	require.NoError(t, err)
	sec1 := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER}))
	file := filepath.Join(t.TempDir(), "key.pem")
	require.NoError(t, os.WriteFile(file, []byte(rsaPEM), 0o600))

	jwtOpts := func(keys ...oauth2server.SigningKey) oauth2server.Options {
		return oauth2server.Options{Issuer: testIssuer, Audience: testAudience,
			JWT: &oauth2server.JWTOptions{}, SigningKeys: keys}
	}
	tests := []struct {
		name        string
		givenModel  oauth2server.Model
		givenOpts   oauth2server.Options
		expectError string // empty: New succeeds
	}{
		{name: "ok, opaque by default", givenOpts: oauth2server.Options{}},
		{name: "ok, one RSA key is active without being marked", givenOpts: jwtOpts(oauth2server.SigningKey{PEM: rsaPEM})},
		{name: "ok, key from a file", givenOpts: jwtOpts(oauth2server.SigningKey{File: file})},
		{name: "ok, PKCS #1 RSA key", givenOpts: jwtOpts(oauth2server.SigningKey{PEM: pkcs1, Algorithm: "RS256"})},
		{name: "ok, SEC 1 EC key", givenOpts: jwtOpts(oauth2server.SigningKey{PEM: sec1, Algorithm: "ES256"})},
		{name: "ok, active key and a public previous key", givenOpts: jwtOpts(
			oauth2server.SigningKey{PEM: ecPEM, Active: true},
			oauth2server.SigningKey{PEM: publicPEM(t, rsaKey.Public())})},
		{name: "ok, generated EdDSA key when allowed", givenOpts: func() oauth2server.Options {
			o := jwtOpts()
			o.AllowGeneratedKeys, o.GeneratedKeyAlgorithm = true, "EdDSA"
			return o
		}()},
		{name: "ok, generated ES256 key when allowed", givenOpts: func() oauth2server.Options {
			o := jwtOpts()
			o.AllowGeneratedKeys, o.GeneratedKeyAlgorithm = true, "ES256"
			return o
		}()},
		{name: "nok, signing keys without JWT", givenOpts: oauth2server.Options{SigningKeys: []oauth2server.SigningKey{{PEM: rsaPEM}}},
			expectError: "set Options.JWT"},
		{name: "nok, generated keys without JWT", givenOpts: oauth2server.Options{AllowGeneratedKeys: true},
			expectError: "set Options.JWT"},
		{name: "nok, JWT without keys says how to configure them", givenOpts: jwtOpts(),
			expectError: "SigningKeys to a PEM private key (e.g. from `openssl genpkey"},
		{name: "nok, JWT without issuer", givenOpts: func() oauth2server.Options {
			o := jwtOpts(oauth2server.SigningKey{PEM: rsaPEM})
			o.Issuer = ""
			return o
		}(), expectError: "need Issuer"},
		// a default audience is required.
		{name: "nok, JWT without audience", givenOpts: func() oauth2server.Options {
			o := jwtOpts(oauth2server.SigningKey{PEM: rsaPEM})
			o.Audience = ""
			return o
		}(), expectError: "need Audience"},
		{name: "nok, JWT with a model without a deny-list", givenModel: minimalModel{memorymodel.New()},
			givenOpts: jwtOpts(oauth2server.SigningKey{PEM: rsaPEM}), expectError: "need RevokedJTIModel"},
		{name: "nok, leeway too large", givenOpts: func() oauth2server.Options {
			o := jwtOpts(oauth2server.SigningKey{PEM: rsaPEM})
			o.JWT.Leeway = time.Hour
			return o
		}(), expectError: "JWT.Leeway"},
		{name: "nok, unknown generated algorithm", givenOpts: func() oauth2server.Options {
			o := jwtOpts()
			o.AllowGeneratedKeys, o.GeneratedKeyAlgorithm = true, "HS256"
			return o
		}(), expectError: "GeneratedKeyAlgorithm"},
		{name: "nok, two active keys", givenOpts: jwtOpts(oauth2server.SigningKey{PEM: rsaPEM, Active: true},
			oauth2server.SigningKey{PEM: ecPEM, Active: true}), expectError: "more than one key is Active"},
		{name: "nok, no active key among two", givenOpts: jwtOpts(oauth2server.SigningKey{PEM: rsaPEM},
			oauth2server.SigningKey{PEM: ecPEM}), expectError: "no key is Active"},
		{name: "nok, active public key", givenOpts: jwtOpts(oauth2server.SigningKey{PEM: publicPEM(t, rsaKey.Public())}),
			expectError: "active key must be a private key"},
		{name: "nok, duplicate kid", givenOpts: jwtOpts(oauth2server.SigningKey{PEM: rsaPEM, KeyID: "k", Active: true},
			oauth2server.SigningKey{PEM: ecPEM, KeyID: "k"}), expectError: `kid "k" is used twice`},
		{name: "nok, RSA key under 2048 bits", givenOpts: jwtOpts(oauth2server.SigningKey{
			PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: smallDER}))}), expectError: "at least 2048"},
		{name: "nok, P-384 key", givenOpts: jwtOpts(oauth2server.SigningKey{
			PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p384DER}))}), expectError: "only P-256"},
		{name: "nok, algorithm does not match the key", givenOpts: jwtOpts(oauth2server.SigningKey{PEM: rsaPEM, Algorithm: "ES256"}),
			expectError: "does not match the key"},
		{name: "nok, PEM and File", givenOpts: jwtOpts(oauth2server.SigningKey{PEM: rsaPEM, File: file}), expectError: "not both"},
		{name: "nok, neither PEM nor File", givenOpts: jwtOpts(oauth2server.SigningKey{KeyID: "x"}), expectError: "PEM or File is required"},
		{name: "nok, missing file", givenOpts: jwtOpts(oauth2server.SigningKey{File: file + ".missing"}), expectError: "read key file"},
		{name: "nok, not PEM", givenOpts: jwtOpts(oauth2server.SigningKey{PEM: "secret"}), expectError: "no PEM block"},
		{name: "nok, two PEM blocks", givenOpts: jwtOpts(oauth2server.SigningKey{PEM: rsaPEM + ecPEM}), expectError: "more than one PEM block"},
		{name: "nok, certificate instead of key", givenOpts: jwtOpts(oauth2server.SigningKey{
			PEM: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}), expectError: "unsupported PEM block"},
		{name: "nok, corrupt key", givenOpts: jwtOpts(oauth2server.SigningKey{
			PEM: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}), expectError: "parse PRIVATE KEY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			model := tc.givenModel
			if model == nil {
				model = memorymodel.New()
			}
			srv, err := oauth2server.New(model, tc.givenOpts)
			if tc.expectError == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.givenOpts.JWT != nil, srv.IssuesJWT())
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.expectError)
		})
	}
}

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

// jwk is a JWK as a resource server reads it from the JWKS JSON.
type jwk map[string]any

func (k jwk) bytes(t *testing.T, member string) []byte {
	t.Helper()
	s, ok := k[member].(string)
	require.True(t, ok, "member %s", member)
	b, err := base64.RawURLEncoding.DecodeString(s)
	require.NoError(t, err)
	return b
}

// verifyByHand verifies a compact JWS with a key built from the JWK's
// public members, using only the standard library (no jwt package).
func verifyByHand(t *testing.T, set []jwk, raw string) bool {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	var header struct{ Alg, Kid, Typ string }
	require.NoError(t, json.Unmarshal(hb, &header))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	input := []byte(parts[0] + "." + parts[1])
	digest := sha256.Sum256(input)
	for _, k := range set {
		if k["kid"] != header.Kid {
			continue
		}
		if k["alg"] != header.Alg || header.Typ != "at+jwt" {
			return false
		}
		switch k["kty"] {
		case "RSA":
			pub := &rsa.PublicKey{N: new(big.Int).SetBytes(k.bytes(t, "n")), E: int(new(big.Int).SetBytes(k.bytes(t, "e")).Int64())}
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
		case "EC":
			require.Equal(t, "P-256", k["crv"])
			point := append([]byte{4}, append(k.bytes(t, "x"), k.bytes(t, "y")...)...)
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
			require.NoError(t, err)
			if len(sig) != 64 {
				return false
			}
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			return ecdsa.Verify(pub, digest[:], r, s)
		case "OKP":
			require.Equal(t, "Ed25519", k["crv"])
			return ed25519.Verify(ed25519.PublicKey(k.bytes(t, "x")), input, sig)
		}
	}
	return false
}

// the JWKS publishes public keys only, with use, alg and kid,
// and is enough for an independent resource server to verify our JWTs.
func TestJWKSIndependentVerifier(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run("ok, "+alg, func(t *testing.T) {
			_, keyPEM := genKey(t, alg)
			_, prevPEM := genKey(t, "EdDSA")
			e := newTestEnv(t, withJWT(oauth2server.SigningKey{PEM: keyPEM, Active: true}, oauth2server.SigningKey{PEM: prevPEM}))
			at := e.clientCredentials(confID, confSecret)

			rec := e.get("/jwks.json")
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "public, max-age=900", rec.Header().Get("Cache-Control"))
			assert.Equal(t, "application/jwk-set+json", rec.Header().Get("Content-Type"))
			var set struct{ Keys []jwk }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &set))
			require.Len(t, set.Keys, 2, "active and previous key")
			for _, k := range set.Keys {
				for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
					assert.NotContains(t, k, private, "private member leaked")
				}
				assert.Equal(t, "sig", k["use"])
				assert.NotEmpty(t, k["kid"])
				assert.NotEmpty(t, k["alg"])
			}
			h, _ := jwtParts(t, at)
			assert.Equal(t, alg, h["alg"])
			assert.True(t, verifyByHand(t, set.Keys, at), "independent verification")

			// A modified payload must fail the same verifier.
			parts := strings.Split(at, ".")
			forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2]
			assert.False(t, verifyByHand(t, set.Keys, forged))
		})
	}
}

// The default kid is the RFC 7638 thumbprint; checked with the example key
// of RFC 7638 §3.1.
func TestJWKThumbprintKID(t *testing.T) {
	t.Parallel()
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	require.NoError(t, err)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	_, active := genKey(t, "ES256")
	srv, err := oauth2server.New(memorymodel.New(), oauth2server.Options{Issuer: testIssuer, Audience: testAudience,
		JWT:         &oauth2server.JWTOptions{},
		SigningKeys: []oauth2server.SigningKey{{PEM: active, Active: true}, {PEM: publicPEM(t, pub)}}})
	require.NoError(t, err)
	keys := srv.JWKS().Keys
	require.Len(t, keys, 2)
	assert.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", keys[1].Kid)
	assert.Equal(t, "AQAB", keys[1].E)
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

// Rotation: a token signed by the previous key verifies until it expires;
// once the previous key is dropped its tokens are rejected (unknown kid).
func TestJWTKeyRotation(t *testing.T) {
	t.Parallel()
	oldKey, oldPEM := genKey(t, "RS256")
	_, newPEM := genKey(t, "ES256")
	before := newTestEnv(t, withJWT(oauth2server.SigningKey{PEM: oldPEM, KeyID: "2026-01"}))
	old := before.clientCredentials(confID, confSecret)

	// The same store, restarted with the new key active and the old one
	// kept (public part only) for verification.
	opts := oauth2server.Options{Issuer: testIssuer, Audience: testAudience, Now: before.clock.Now,
		JWT: &oauth2server.JWTOptions{}, SigningKeys: []oauth2server.SigningKey{
			{PEM: newPEM, KeyID: "2026-04", Active: true},
			{PEM: publicPEM(t, oldKey.Public()), KeyID: "2026-01"},
		}}
	during, err := oauth2server.New(before.model, opts)
	require.NoError(t, err)
	fresh, err := during.Token(tokenReq{body: "grant_type=client_credentials", auth: basic(confID, confSecret)}.build())
	require.NoError(t, err)
	h, _ := jwtParts(t, fresh.AccessToken)
	assert.Equal(t, "2026-04", h["kid"])
	assert.Equal(t, "ES256", h["alg"])
	kids := []string{}
	for _, k := range during.JWKS().Keys {
		kids = append(kids, k.Kid)
	}
	assert.Equal(t, []string{"2026-04", "2026-01"}, kids)

	_, err = during.ValidateAccessToken(context.Background(), old)
	require.NoError(t, err, "previous key still verifies")
	_, err = during.ValidateAccessToken(context.Background(), fresh.AccessToken)
	require.NoError(t, err)

	before.clock.Advance(time.Hour + time.Minute)
	_, err = during.ValidateAccessToken(context.Background(), old)
	require.ErrorIs(t, err, oerrors.ErrInvalidToken)
	assert.Equal(t, "The access token has expired.", oerrors.From(err).Description)

	opts.SigningKeys = opts.SigningKeys[:1]
	after, err := oauth2server.New(before.model, opts)
	require.NoError(t, err)
	before.clock.Advance(-time.Hour) // old token not expired, but its key is gone
	_, err = after.ValidateAccessToken(context.Background(), old)
	require.ErrorIs(t, err, oerrors.ErrInvalidToken)
	assert.Equal(t, "The access token is invalid.", oerrors.From(err).Description)
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
