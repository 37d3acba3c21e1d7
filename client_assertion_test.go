package oauth2server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// The clients of the assertion tests, added to the fixture by
// newAssertionEnv: one per key type for private_key_jwt, one with its keys
// at a jwks_uri, one for client_secret_jwt, one pinned to ES256.
const (
	pkES256ID  = "pk-es256"
	pkEdDSAID  = "pk-eddsa"
	pkRSAID    = "pk-rsa"
	pkPinnedID = "pk-pinned"
	pkURIID    = "pk-uri"
	csJWTID    = "cs-jwt"
	// tokenURL is the token endpoint URL, an accepted aud besides the
	// issuer (AssertionOptions.Audiences).
	tokenURL = testIssuer + "/token"
)

// csJWTSecret is the secret of csJWTID: 32 bytes, the least HS256 takes.
var csJWTSecret = []byte("0123456789abcdef0123456789abcdef")

// assertionKey is a key a client signs its assertions with.
type assertionKey struct {
	kid    string
	alg    string
	signer any // crypto.Signer, or []byte for HMAC
}

// sign signs claims with k, with header members added (nil values remove
// a member, e.g. "kid").
func (k assertionKey) sign(t *testing.T, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.alg), claims)
	if k.kid != "" {
		tok.Header["kid"] = k.kid
	}
	for name, v := range header {
		if v == nil {
			delete(tok.Header, name)
		} else {
			tok.Header[name] = v
		}
	}
	raw, err := tok.SignedString(k.signer)
	require.NoError(t, err)
	return raw
}

// newAssertionKey makes a key pair of alg (RS256, ES256, EdDSA) for kid.
func newAssertionKey(t *testing.T, alg, kid string) assertionKey {
	t.Helper()
	keyAlg := alg
	if alg == "PS256" {
		keyAlg = "RS256"
	}
	k, _ := genKey(t, keyAlg)
	return assertionKey{kid: kid, alg: alg, signer: k}
}

// jwk is the public JWK of k.
func (k assertionKey) jwk(t *testing.T) map[string]any {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	signer, ok := k.signer.(crypto.Signer)
	require.True(t, ok, "HMAC keys have no JWK")
	out := map[string]any{"kid": k.kid, "use": "sig"}
	switch pub := signer.Public().(type) {
	case *rsa.PublicKey:
		out["kty"], out["n"], out["e"] = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
		out["alg"] = k.alg
	case *ecdsa.PublicKey:
		raw, err := pub.Bytes()
		require.NoError(t, err)
		out["kty"], out["crv"], out["x"], out["y"] = "EC", "P-256", b64(raw[1:33]), b64(raw[33:])
	case ed25519.PublicKey:
		out["kty"], out["crv"], out["x"] = "OKP", "Ed25519", b64(pub)
	}
	return out
}

// jwks is the JWK Set of keys as JSON text.
func jwks(t *testing.T, keys ...assertionKey) string {
	t.Helper()
	set := map[string]any{"keys": []any{}}
	for _, k := range keys {
		set["keys"] = append(set["keys"].([]any), k.jwk(t))
	}
	b, err := json.Marshal(set)
	require.NoError(t, err)
	return string(b)
}

// assertionClaims are valid claims of clientID's assertion at now.
func assertionClaims(clientID string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": clientID, "sub": clientID, "aud": testIssuer,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"jti": "jti-" + randomID(),
	}
}

var idCounter atomic.Int64

func randomID() string {
	return time.Now().Format("150405.000000000") + "-" + big.NewInt(idCounter.Add(1)).String()
}

// assertionEnv is a testEnv with the assertion clients and their keys.
type assertionEnv struct {
	*testEnv
	keys map[string]assertionKey // by client ID
	// other is a key no client registered.
	other assertionKey
	// jwksServer serves the key set of pkURIID; publish replaces it.
	jwksServer *httptest.Server
	served     atomic.Pointer[string]
	fetches    atomic.Int64
}

// newAssertionEnv builds the fixture with Assertions.Audiences set to the
// token endpoint URL and loopback jwks_uri allowed; mutate changes the
// options further.
func newAssertionEnv(t *testing.T, mutate func(*oauth2server.Options)) *assertionEnv {
	t.Helper()
	env := &assertionEnv{keys: map[string]assertionKey{
		pkES256ID:  newAssertionKey(t, "ES256", "es-1"),
		pkEdDSAID:  newAssertionKey(t, "EdDSA", "ed-1"),
		pkRSAID:    newAssertionKey(t, "PS256", "rsa-1"),
		pkPinnedID: newAssertionKey(t, "ES256", "pin-1"),
		pkURIID:    newAssertionKey(t, "ES256", "uri-1"),
		csJWTID:    {alg: "HS256", signer: csJWTSecret},
	}}
	env.other = newAssertionKey(t, "ES256", "es-1") // same kid as pkES256ID's
	env.jwksServer = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		env.fetches.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write([]byte(*env.served.Load()))
	}))
	t.Cleanup(env.jwksServer.Close)
	env.publish(jwks(t, env.keys[pkURIID]))

	env.testEnv = newTestEnv(t, withOptions(func(o *oauth2server.Options) {
		o.Assertions.Audiences = []string{tokenURL}
		o.Assertions.AllowLoopbackJWKSURI = true
		if mutate != nil {
			mutate(o)
		}
	}))
	ctx := context.Background()
	grants := []string{oauth2server.GrantClientCredentials, oauth2server.GrantRefreshToken}
	scopes := []string{"read", "write"}
	pk := oauth2server.AuthMethodPrivateKeyJWT
	for _, c := range []*oauth2server.Client{
		{ID: pkES256ID, TokenEndpointAuthMethod: pk, JWKS: jwks(t, env.keys[pkES256ID]), Grants: grants, Scopes: scopes, Introspect: true},
		{ID: pkEdDSAID, TokenEndpointAuthMethod: pk, JWKS: jwks(t, env.keys[pkEdDSAID]), Grants: grants, Scopes: scopes},
		{ID: pkRSAID, TokenEndpointAuthMethod: pk, JWKS: jwks(t, env.keys[pkRSAID]), Grants: grants, Scopes: scopes},
		{ID: pkPinnedID, TokenEndpointAuthMethod: pk, TokenEndpointAuthSigningAlg: "ES256",
			JWKS: jwks(t, env.keys[pkPinnedID], env.keys[pkRSAID]), Grants: grants, Scopes: scopes},
		{ID: pkURIID, TokenEndpointAuthMethod: pk, JWKSURI: env.jwksServer.URL + "/jwks", Grants: grants, Scopes: scopes},
		{ID: csJWTID, TokenEndpointAuthMethod: oauth2server.AuthMethodClientSecretJWT, Grants: grants, Scopes: scopes},
	} {
		require.NoError(t, env.model.AddClient(ctx, c))
	}
	require.NoError(t, env.model.SetClientSecret(ctx, csJWTID, csJWTSecret))
	return env
}

// publish makes the jwks_uri server answer with set.
func (env *assertionEnv) publish(set string) { env.served.Store(&set) }

// assertionForm is a client_credentials request authenticated by the
// assertion raw.
func assertionForm(raw string) url.Values {
	return url.Values{
		"grant_type":            {oauth2server.GrantClientCredentials},
		"client_assertion_type": {oauth2server.ClientAssertionTypeJWTBearer},
		"client_assertion":      {raw},
	}
}

// assertion signs valid claims of clientID with its own key, changed by
// edit.
func (env *assertionEnv) assertion(clientID string, edit func(jwt.MapClaims)) string {
	env.t.Helper()
	c := assertionClaims(clientID, env.clock.Now())
	if edit != nil {
		edit(c)
	}
	return env.keys[clientID].sign(env.t, c, nil)
}

func TestClientAssertionAccepted(t *testing.T) {
	env := newAssertionEnv(t, nil)
	tests := []struct {
		name     string
		clientID string
		edit     func(jwt.MapClaims)
	}{
		{"ok, private_key_jwt ES256", pkES256ID, nil},
		{"ok, private_key_jwt EdDSA", pkEdDSAID, nil},
		{"ok, private_key_jwt PS256 (the RSA key's registered alg)", pkRSAID, nil},
		{"ok, private_key_jwt pinned to ES256", pkPinnedID, nil},
		{"ok, private_key_jwt with keys at a jwks_uri", pkURIID, nil},
		{"ok, client_secret_jwt HS256", csJWTID, nil},
		{"ok, aud is the token endpoint URL (R-144)", pkES256ID, func(c jwt.MapClaims) { c["aud"] = tokenURL }},
		{"ok, aud is an array naming the issuer", pkES256ID, func(c jwt.MapClaims) { c["aud"] = []string{"https://other.example", testIssuer} }},
		{"ok, no iat, nbf now", pkES256ID, func(c jwt.MapClaims) { delete(c, "iat"); c["nbf"] = c["exp"].(int64) - 60 }},
		{"ok, iat 10 seconds ahead is within the leeway (FAPI 2.0 §5.3.2.1)", pkES256ID, func(c jwt.MapClaims) { c["iat"] = c["iat"].(int64) + 10 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := env.assertion(tc.clientID, tc.edit)
			r := env.do(tokenReq{body: assertionForm(raw).Encode()})
			requireOK(t, r)
			tok := env.accessToken(str(r.body["access_token"]))
			assert.Equal(t, tc.clientID, tok.ClientID)
		})
	}

	t.Run("ok, through package nethttp, with client_id naming the same client (R-141)", func(t *testing.T) {
		f := assertionForm(env.assertion(pkEdDSAID, nil))
		f.Set("client_id", pkEdDSAID)
		requireOK(t, env.serve(tokenReq{body: f.Encode()}))
	})
}

// Every refused client assertion is 401 invalid_client with a Basic
// challenge, except a second method, which is 400
// invalid_request.
func TestClientAssertionRefused(t *testing.T) {
	env := newAssertionEnv(t, nil)
	es := env.keys[pkES256ID]
	pubJWK, err := json.Marshal(es.jwk(t))
	require.NoError(t, err)
	now := env.clock.Now()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := assertionClaims(pkES256ID, now)
		if edit != nil {
			edit(c)
		}
		return c
	}
	spent := es.sign(t, claims(nil), nil)
	requireOK(t, env.do(tokenReq{body: assertionForm(spent).Encode()}))
	rsaPub := publicPEM(t, env.keys[pkRSAID].signer.(crypto.Signer).Public())

	tests := []struct {
		name              string
		whenForm          url.Values
		whenAuth          string
		expectStatus      int
		expectCode        string
		expectDescription string
	}{
		{name: "nok, signed by another key with the client's kid (wrong key)", expectDescription: "signature or algorithm is invalid",
			whenForm: assertionForm(env.other.sign(t, claims(nil), nil))},
		{name: "nok, expired (R-143)", expectDescription: "has expired",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) {
				c["iat"], c["exp"] = now.Add(-3*time.Minute).Unix(), now.Add(-time.Minute).Unix()
			}), nil))},
		{name: "nok, no exp (R-143)", expectDescription: "has no exp claim",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { delete(c, "exp") }), nil))},
		{name: "nok, exp further ahead than the maximum lifetime (R-143)", expectDescription: "valid for too long (exp)",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(10 * time.Minute).Unix() }), nil))},
		{name: "nok, iat further back than the maximum lifetime (R-143)", expectDescription: "issued too long ago (iat)",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { c["iat"] = now.Add(-10 * time.Minute).Unix() }), nil))},
		{name: "nok, iat in the future beyond the leeway (FAPI 2.0 §5.3.2.1)", expectDescription: "issued in the future (iat)",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { c["iat"] = now.Add(61 * time.Second).Unix() }), nil))},
		{name: "nok, nbf in the future (R-143)", expectDescription: "not valid yet (nbf)",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(45 * time.Second).Unix() }), nil))},
		{name: "nok, reused jti (R-145)", expectDescription: "used before", whenForm: assertionForm(spent)},
		{name: "nok, no jti (R-145)", expectDescription: "has no jti",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { delete(c, "jti") }), nil))},
		{name: "nok, jti over 256 bytes (R-145)", expectDescription: "has no jti",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { c["jti"] = strings.Repeat("j", 257) }), nil))},
		{name: "nok, aud names another server (R-143)", expectDescription: "aud does not name",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { c["aud"] = "https://other.example" }), nil))},
		{name: "nok, no aud (R-143)", expectDescription: "aud does not name",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { delete(c, "aud") }), nil))},
		{name: "nok, alg none (R-146)", expectDescription: "signature or algorithm is invalid",
			whenForm: assertionForm(unsignedJWT(t, claims(nil)))},
		{name: "nok, HS256 keyed with the client's public JWK (R-146)", expectDescription: "algorithm is not allowed",
			whenForm: assertionForm(assertionKey{kid: es.kid, alg: "HS256", signer: pubJWK}.sign(t, claims(nil), nil))},
		{name: "nok, HS256 keyed with a public key PEM (R-146)", expectDescription: "algorithm is not allowed",
			whenForm: assertionForm(assertionKey{kid: "rsa-1", alg: "HS256", signer: []byte(rsaPub)}.sign(t,
				assertionClaims(pkRSAID, now), nil))},
		{name: "nok, iss is not sub (R-143)", expectDescription: "iss and sub must both be the client_id",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { c["sub"] = "someone" }), nil))},
		{name: "nok, sub is another client, iss unknown (R-143)", expectDescription: "Client authentication failed.",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { c["iss"] = "someone" }), nil))},
		{name: "nok, iss and sub another client's (R-143)", expectDescription: "No registered key",
			whenForm: assertionForm(es.sign(t, assertionClaims(pkEdDSAID, now), nil))},
		{name: "nok, no iss", expectDescription: "has no iss claim",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { delete(c, "iss") }), nil))},
		{name: "nok, client_id names another client (R-141)", expectDescription: "client_id parameter does not match",
			whenForm: func() url.Values {
				f := assertionForm(es.sign(t, claims(nil), nil))
				f.Set("client_id", pkEdDSAID)
				return f
			}()},
		{name: "nok, unknown client_assertion_type (R-141)", expectDescription: "client_assertion_type is not supported",
			whenForm: func() url.Values {
				f := assertionForm(es.sign(t, claims(nil), nil))
				f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
				return f
			}()},
		{name: "nok, client_assertion without client_assertion_type (R-141)", expectDescription: "must be sent together",
			whenForm: func() url.Values {
				f := assertionForm(es.sign(t, claims(nil), nil))
				f.Del("client_assertion_type")
				return f
			}()},
		{name: "nok, client_assertion_type without client_assertion (R-141)", expectDescription: "must be sent together",
			whenForm: url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {oauth2server.ClientAssertionTypeJWTBearer}}},
		{name: "nok, not a JWT", expectDescription: "not a well-formed JWT",
			whenForm: assertionForm("not.a.jwt")},
		{name: "nok, larger than 8 KiB", expectDescription: "too large",
			whenForm: assertionForm(es.sign(t, claims(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("p", 9<<10) }), nil))},
		{name: "nok, typ at+jwt: an access token is no assertion", expectDescription: "unexpected typ header",
			whenForm: assertionForm(es.sign(t, claims(nil), map[string]any{"typ": "at+jwt"}))},
		{name: "nok, a crit header that is not understood", expectDescription: "critical header parameter",
			whenForm: assertionForm(es.sign(t, claims(nil), map[string]any{"crit": []string{"exp"}}))},
		{name: "nok, a kid the client did not register", expectDescription: "No registered key",
			whenForm: assertionForm(assertionKey{kid: "nope", alg: "ES256", signer: es.signer}.sign(t, claims(nil), nil))},
		{name: "nok, a jwk header naming the signing key is ignored (R-148)", expectDescription: "signature or algorithm is invalid",
			whenForm: assertionForm(env.other.sign(t, claims(nil), map[string]any{"jwk": env.other.jwk(t), "kid": nil}))},
		{name: "nok, client pinned to ES256 signs with its RSA key (R-146)", expectDescription: "algorithm is not allowed",
			whenForm: assertionForm(env.keys[pkRSAID].sign(t, assertionClaims(pkPinnedID, now), nil))},
		{name: "nok, client_secret_jwt client signs with a key pair (R-146)", expectDescription: "algorithm is not allowed",
			whenForm: assertionForm(es.sign(t, assertionClaims(csJWTID, now), nil))},
		{name: "nok, client_secret_jwt with the wrong secret", expectDescription: "signature or algorithm is invalid",
			whenForm: assertionForm(assertionKey{alg: "HS256", signer: []byte("fedcba9876543210fedcba9876543210")}.sign(t,
				assertionClaims(csJWTID, now), nil))},
		{name: "nok, client_secret_jwt with HS512, for which a 32-byte secret is too short (R-147)", expectDescription: "Client authentication failed.",
			whenForm: assertionForm(assertionKey{alg: "HS512", signer: csJWTSecret}.sign(t, assertionClaims(csJWTID, now), nil))},
		{name: "nok, a client_secret_basic client sends an assertion (R-142)", expectDescription: "Client authentication failed.",
			whenForm: assertionForm(es.sign(t, assertionClaims(basicID, now), nil))},
		{name: "nok, a private_key_jwt client sends a secret instead", expectDescription: "Client authentication failed.",
			whenForm: url.Values{"grant_type": {"client_credentials"}, "client_id": {pkES256ID}, "client_secret": {"x"}}},
		{name: "nok, a private_key_jwt client sends only its client_id (R-22)", expectDescription: "Client authentication failed.",
			whenForm: url.Values{"grant_type": {"client_credentials"}, "client_id": {pkES256ID}}},
		{name: "nok, assertion and HTTP Basic at once (R-142)", expectDescription: "more than one client authentication method",
			whenForm:     assertionForm(es.sign(t, claims(nil), nil)),
			whenAuth:     basic(confID, confSecret),
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		{name: "nok, assertion and client_secret at once (R-142)", expectDescription: "more than one client authentication method",
			whenForm: func() url.Values {
				f := assertionForm(es.sign(t, claims(nil), nil))
				f.Set("client_id", pkES256ID)
				f.Set("client_secret", "x")
				return f
			}(),
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, code := tc.expectStatus, tc.expectCode
			if status == 0 {
				status, code = http.StatusUnauthorized, "invalid_client"
			}
			r := env.do(tokenReq{body: tc.whenForm.Encode(), auth: tc.whenAuth})
			requireError(t, r, status, code, status == http.StatusUnauthorized)
			assert.Contains(t, r.body["error_description"], tc.expectDescription)
		})
	}
}

// unsignedJWT is an "alg":"none" JWT of claims.
func unsignedJWT(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	raw, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	return raw
}

func TestClientAssertionStrictAudience(t *testing.T) {
	// in strict mode aud is the issuer identifier as a
	// string, nothing else.
	env := newAssertionEnv(t, func(o *oauth2server.Options) { o.Assertions.StrictAudience = true })
	tests := []struct {
		name   string
		aud    any
		expect int
	}{
		{"ok, the issuer as a string", testIssuer, http.StatusOK},
		{"nok, the token endpoint URL", tokenURL, http.StatusUnauthorized},
		{"nok, the issuer in an array", []string{testIssuer}, http.StatusUnauthorized},
		{"nok, the issuer and another audience", []string{testIssuer, "https://rs.example"}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := env.assertion(pkES256ID, func(c jwt.MapClaims) { c["aud"] = tc.aud })
			r := env.do(tokenReq{body: assertionForm(raw).Encode()})
			require.Equal(t, tc.expect, r.status, r.raw)
		})
	}
}

// A client authenticates by assertion wherever it authenticates:
// introspection, revocation and device authorization too.
func TestClientAssertionAtEveryEndpoint(t *testing.T) {
	env := newAssertionEnv(t, nil)
	r := env.do(tokenReq{body: assertionForm(env.assertion(pkES256ID, nil)).Encode()})
	requireOK(t, r)
	at := str(r.body["access_token"])

	t.Run("ok, introspection", func(t *testing.T) {
		f := assertionForm(env.assertion(pkES256ID, func(c jwt.MapClaims) { c["aud"] = testIssuer + "/introspect" }))
		f.Del("grant_type")
		f.Set("token", at)
		// The introspection URL is no accepted audience here: refused.
		requireError(t, env.do(tokenReq{path: "/introspect", body: f.Encode()}), http.StatusUnauthorized, "invalid_client", true)
		f.Set("client_assertion", env.assertion(pkES256ID, nil))
		got := env.do(tokenReq{path: "/introspect", body: f.Encode()})
		require.Equal(t, http.StatusOK, got.status, got.raw)
		assert.Equal(t, true, got.body["active"])
		assert.Equal(t, pkES256ID, got.body["client_id"])
	})
	t.Run("ok, revocation", func(t *testing.T) {
		f := assertionForm(env.assertion(pkES256ID, nil))
		f.Del("grant_type")
		f.Set("token", at)
		req := tokenReq{path: "/revoke", body: f.Encode()}.build()
		rec := httptest.NewRecorder()
		env.echo.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.True(t, env.accessToken(at).Revoked)
	})
	t.Run("nok, revocation with a spent assertion", func(t *testing.T) {
		raw := env.assertion(pkES256ID, nil)
		f := assertionForm(raw)
		f.Set("token", at)
		requireOK(t, env.do(tokenReq{body: assertionForm(raw).Encode()}))
		requireError(t, env.serve(tokenReq{path: "/revoke", body: f.Encode()}), http.StatusUnauthorized, "invalid_client", true)
	})
	t.Run("ok, device authorization", func(t *testing.T) {
		ctx := context.Background()
		c, err := env.model.GetClient(ctx, pkEdDSAID)
		require.NoError(t, err)
		require.NotNil(t, c)
		require.NoError(t, env.model.AddClient(ctx, &oauth2server.Client{ID: "pk-device", TokenEndpointAuthMethod: oauth2server.AuthMethodPrivateKeyJWT,
			JWKS: c.JWKS, Grants: []string{oauth2server.GrantDeviceCode}, Scopes: []string{"read"}}))
		env.keys["pk-device"] = env.keys[pkEdDSAID]
		f := assertionForm(env.assertion("pk-device", nil))
		f.Del("grant_type")
		got := env.deviceAuthorization(f, "", "")
		require.Equal(t, http.StatusOK, got.status, got.raw)
		assert.NotEmpty(t, got.body["device_code"])
	})
}

// Of concurrent requests with one assertion exactly one is accepted
// the jti is spent atomically in the CounterModel.
func TestClientAssertionConcurrentReplay(t *testing.T) {
	env := newAssertionEnv(t, nil)
	raw := env.assertion(pkES256ID, nil)
	const n = 24
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := tokenReq{body: assertionForm(raw).Encode()}.build()
			<-start
			rec := httptest.NewRecorder()
			env.echo.ServeHTTP(rec, req)
			codes[i] = rec.Code
		}()
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusUnauthorized: n - 1}, count)
}

// A client's keys at a jwks_uri are fetched once, cached, and fetched
// again for an unknown kid (a rotation), at most once per
// JWKSMinRefreshInterval.
func TestClientAssertionJWKSURIRotation(t *testing.T) {
	env := newAssertionEnv(t, nil)
	old := env.keys[pkURIID]
	next := newAssertionKey(t, "ES256", "uri-2")
	send := func(k assertionKey) answer {
		t.Helper()
		return env.do(tokenReq{body: assertionForm(k.sign(t, assertionClaims(pkURIID, env.clock.Now()), nil)).Encode()})
	}

	requireOK(t, send(old))
	requireOK(t, send(old))
	assert.Equal(t, int64(1), env.fetches.Load(), "the set is cached")

	// The client rotates: the new key is published, the old one removed.
	env.publish(jwks(t, next))
	requireOK(t, send(old))
	assert.Equal(t, int64(1), env.fetches.Load(), "a known kid does not refetch")
	requireError(t, send(next), http.StatusUnauthorized, "invalid_client", true)
	assert.Equal(t, int64(1), env.fetches.Load(), "an unknown kid refetches at most once per interval")

	env.clock.Advance(oauth2server.DefaultJWKSMinRefreshInterval)
	requireOK(t, send(next))
	assert.Equal(t, int64(2), env.fetches.Load(), "an unknown kid refetched the set")
	requireError(t, send(old), http.StatusUnauthorized, "invalid_client", true)

	// Past the cache lifetime (1 hour without max-age) the set is fetched
	// again even for a known kid.
	env.clock.Advance(oauth2server.DefaultJWKSCacheTTL)
	requireOK(t, send(next))
	assert.Equal(t, int64(3), env.fetches.Load())
}

func TestClientAssertionMetadata(t *testing.T) {
	env := newAssertionEnv(t, nil)
	m, err := env.srv.Metadata(oauth2server.Endpoints{Token: tokenURL, Revocation: testIssuer + "/revoke",
		Introspection: testIssuer + "/introspect"})
	require.NoError(t, err)
	assert.Equal(t, []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "none"},
		m.TokenEndpointAuthMethodsSupported)
	assert.Equal(t, []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"},
		m.IntrospectionEndpointAuthMethodsSupported)
	assert.Contains(t, m.RevocationEndpointAuthMethodsSupported, "private_key_jwt")
	for _, algs := range [][]string{m.TokenEndpointAuthSigningAlgValuesSupported,
		m.RevocationEndpointAuthSigningAlgValuesSupported, m.IntrospectionEndpointAuthSigningAlgValuesSupported} {
		assert.Subset(t, algs, []string{"RS256", "PS256", "ES256", "EdDSA", "HS256"})
		assert.NotContains(t, algs, "none")
	}

	t.Run("ok, without ClientSecretModel no client_secret_jwt and no HMAC", func(t *testing.T) {
		env := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return noSecrets{m} }))
		m, err := env.srv.Metadata(oauth2server.Endpoints{Token: tokenURL})
		require.NoError(t, err)
		assert.Equal(t, []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}, m.TokenEndpointAuthMethodsSupported)
		assert.NotContains(t, m.TokenEndpointAuthSigningAlgValuesSupported, "HS256")
	})
}

// noSecrets hides the ClientSecretModel of a memorymodel.
type noSecrets struct{ *memorymodel.Model }

func (noSecrets) GetClientSecret() {}

// A refused assertion is a failed client authentication event, naming the
// client it claimed to be.
func TestClientAssertionFailureEvent(t *testing.T) {
	var mu sync.Mutex
	var events []oauth2server.Event
	env := newAssertionEnv(t, func(o *oauth2server.Options) {
		o.OnEvent = func(_ context.Context, e oauth2server.Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e)
		}
	})
	raw := env.other.sign(t, assertionClaims(pkES256ID, env.clock.Now()), nil)
	requireError(t, env.do(tokenReq{body: assertionForm(raw).Encode()}), http.StatusUnauthorized, "invalid_client", true)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, events, 1)
	assert.Equal(t, oauth2server.EventClientAuthFailed, events[0].Kind)
	assert.Equal(t, pkES256ID, events[0].ClientID)
	assert.Equal(t, "invalid_client", events[0].Reason)
}
