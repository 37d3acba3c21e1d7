package oauth2server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// The trusted issuers of the JWT bearer tests and the client that
// presents their assertions.
const (
	idpES      = "https://idp.example"
	idpURI     = "https://idp-uri.example"
	idpLong    = "https://idp-long.example"
	idpOnly    = "https://idp-only.example" // its assertions only for otherID
	bearerID   = "bearer-app"
	bearerPass = "bearer-secret"
	aliceAtIdP = "alice@idp"
)

// bearerEnv is an assertionEnv with trusted issuers, their keys, and a
// confidential client allowed the JWT bearer grant.
type bearerEnv struct {
	*assertionEnv
	issuerKeys map[string]assertionKey
}

func newBearerEnv(t *testing.T, mutate func(*oauth2server.Options)) *bearerEnv {
	t.Helper()
	env := &bearerEnv{assertionEnv: newAssertionEnv(t, mutate), issuerKeys: map[string]assertionKey{
		idpES:   newAssertionKey(t, "ES256", "idp-1"),
		idpURI:  newAssertionKey(t, "EdDSA", "uri-idp-1"),
		idpLong: newAssertionKey(t, "ES256", "long-1"),
		idpOnly: newAssertionKey(t, "ES256", "only-1"),
	}}
	// The jwks_uri server of the assertion fixture serves idpURI's keys.
	env.publish(jwks(t, env.keys[pkURIID], env.issuerKeys[idpURI]))
	ctx := context.Background()
	for _, ti := range []*oauth2server.TrustedIssuer{
		{Issuer: idpES, JWKS: jwks(t, env.issuerKeys[idpES]), Scopes: []string{"read", "write"}},
		{Issuer: idpURI, JWKSURI: env.jwksServer.URL + "/jwks"},
		{Issuer: idpLong, JWKS: jwks(t, env.issuerKeys[idpLong]), MaxAssertionLifetime: time.Hour},
		{Issuer: idpOnly, JWKS: jwks(t, env.issuerKeys[idpOnly]), ClientIDs: []string{otherID}},
	} {
		require.NoError(t, env.model.AddTrustedIssuer(ctx, ti))
		require.NoError(t, env.model.MapIssuerSubject(ctx, ti.Issuer, aliceAtIdP, aliceName))
	}
	require.NoError(t, env.model.AddClient(ctx, &oauth2server.Client{ID: bearerID, SecretHash: oauth2server.HashSecret(bearerPass),
		Grants: []string{oauth2server.GrantJWTBearer, oauth2server.GrantRefreshToken}, Scopes: []string{"read", "write", "admin"}}))
	require.NoError(t, env.model.AddClient(ctx, &oauth2server.Client{ID: "bearer-public", TokenEndpointAuthMethod: oauth2server.AuthMethodNone,
		Grants: []string{oauth2server.GrantJWTBearer}, Scopes: []string{"read"}}))
	return env
}

// bearerClaims are valid claims of an assertion of iss about alice.
func bearerClaims(iss string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{"iss": iss, "sub": aliceAtIdP, "aud": testIssuer,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": "jti-" + randomID()}
}

// bearer sends the JWT bearer grant with assertion as bearerID.
func (env *bearerEnv) bearer(assertion string, extra url.Values) answer {
	env.t.Helper()
	f := url.Values{"grant_type": {oauth2server.GrantJWTBearer}, "assertion": {assertion}}
	for k, v := range extra {
		f[k] = v
	}
	return env.do(tokenReq{body: f.Encode(), auth: basic(bearerID, bearerPass)})
}

func TestJWTBearerGrantAccepted(t *testing.T) {
	env := newBearerEnv(t, nil)
	now := env.clock.Now()
	sign := func(iss string, edit func(jwt.MapClaims)) string {
		c := bearerClaims(iss, now)
		if edit != nil {
			edit(c)
		}
		return env.issuerKeys[iss].sign(t, c, nil)
	}
	tests := []struct {
		name        string
		whenAssert  string
		whenScope   string
		expectScope []string
	}{
		{"ok, no scope: the client's, within the issuer's (R-150)", sign(idpES, nil), "", []string{"read", "write"}},
		{"ok, a scope within the issuer's", sign(idpES, nil), "read", []string{"read"}},
		{"ok, an issuer without scope bound: ValidateScope decides", sign(idpLong, nil), "admin", []string{"admin"}},
		{"ok, keys at the issuer's jwks_uri", sign(idpURI, nil), "", []string{"read", "write", "admin"}},
		{"ok, aud is the token endpoint URL", sign(idpES, func(c jwt.MapClaims) { c["aud"] = tokenURL }), "", []string{"read", "write"}},
		{"ok, the issuer's own longer lifetime", sign(idpLong, func(c jwt.MapClaims) { c["exp"] = now.Add(50 * time.Minute).Unix() }),
			"", []string{"read", "write", "admin"}},
		{"ok, no jti (RFC 7523 §3: optional)", sign(idpES, func(c jwt.MapClaims) { delete(c, "jti") }), "", []string{"read", "write"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			extra := url.Values{}
			if tc.whenScope != "" {
				extra.Set("scope", tc.whenScope)
			}
			r := env.bearer(tc.whenAssert, extra)
			requireOK(t, r)
			assert.NotContains(t, r.body, "refresh_token", "a new assertion, not a refresh token")
			tok := env.accessToken(str(r.body["access_token"]))
			assert.Equal(t, aliceID, tok.UserID)
			assert.Equal(t, bearerID, tok.ClientID)
			assert.Equal(t, tc.expectScope, tok.Scope)
		})
	}
}

// Every refused assertion of the JWT bearer grant is 400 invalid_grant
// without a challenge: the client itself authenticated.
func TestJWTBearerGrantRefused(t *testing.T) {
	env := newBearerEnv(t, nil)
	now := env.clock.Now()
	key := env.issuerKeys[idpES]
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := bearerClaims(idpES, now)
		if edit != nil {
			edit(c)
		}
		return c
	}
	spent := key.sign(t, claims(nil), nil)
	requireOK(t, env.bearer(spent, nil))
	noJTI := key.sign(t, claims(func(c jwt.MapClaims) { delete(c, "jti") }), nil)
	requireOK(t, env.bearer(noJTI, nil))

	tests := []struct {
		name              string
		whenAssertion     string
		whenScope         string
		expectCode        string
		expectDescription string
	}{
		{name: "nok, an untrusted issuer", expectDescription: "issuer is not trusted",
			whenAssertion: key.sign(t, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), nil)},
		{name: "nok, no iss", expectDescription: "issuer is not trusted",
			whenAssertion: key.sign(t, claims(func(c jwt.MapClaims) { delete(c, "iss") }), nil)},
		{name: "nok, signed by another key with the issuer's kid", expectDescription: "signature or algorithm",
			whenAssertion: assertionKey{kid: key.kid, alg: "ES256", signer: env.other.signer}.sign(t, claims(nil), nil)},
		{name: "nok, signed by another trusted issuer's key", expectDescription: "No key of the assertion's issuer",
			whenAssertion: env.issuerKeys[idpLong].sign(t, claims(nil), nil)},
		{name: "nok, expired", expectDescription: "has expired",
			whenAssertion: key.sign(t, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }), nil)},
		{name: "nok, no exp", expectDescription: "no exp claim",
			whenAssertion: key.sign(t, claims(func(c jwt.MapClaims) { delete(c, "exp") }), nil)},
		{name: "nok, longer than the maximum lifetime", expectDescription: "valid for too long",
			whenAssertion: key.sign(t, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(time.Hour).Unix() }), nil)},
		{name: "nok, iat in the future", expectDescription: "issued in the future",
			whenAssertion: key.sign(t, claims(func(c jwt.MapClaims) { c["iat"] = now.Add(2 * time.Minute).Unix() }), nil)},
		{name: "nok, nbf in the future", expectDescription: "not valid yet",
			whenAssertion: key.sign(t, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(2 * time.Minute).Unix() }), nil)},
		{name: "nok, aud names another server", expectDescription: "aud does not name",
			whenAssertion: key.sign(t, claims(func(c jwt.MapClaims) { c["aud"] = "https://other.example" }), nil)},
		{name: "nok, alg none", expectDescription: "signature or algorithm",
			whenAssertion: unsignedJWT(t, claims(nil))},
		{name: "nok, HS256 keyed with the issuer's public key", expectDescription: "signature or algorithm",
			whenAssertion: assertionKey{kid: key.kid, alg: "HS256", signer: []byte(jwks(t, key))}.sign(t, claims(nil), nil)},
		{name: "nok, no sub", expectDescription: "no sub claim",
			whenAssertion: key.sign(t, claims(func(c jwt.MapClaims) { delete(c, "sub") }), nil)},
		{name: "nok, a subject nobody here is", expectDescription: "subject is unknown",
			whenAssertion: key.sign(t, claims(func(c jwt.MapClaims) { c["sub"] = "mallory@idp" }), nil)},
		{name: "nok, an issuer whose assertions are for other clients", expectDescription: "may not present",
			whenAssertion: env.issuerKeys[idpOnly].sign(t, bearerClaims(idpOnly, now), nil)},
		{name: "nok, a reused jti", expectDescription: "used before", whenAssertion: spent},
		{name: "nok, a replayed assertion without jti", expectDescription: "used before", whenAssertion: noJTI},
		{name: "nok, a jti over 256 bytes", expectDescription: "longer than 256",
			whenAssertion: key.sign(t, claims(func(c jwt.MapClaims) { c["jti"] = strings.Repeat("j", 300) }), nil)},
		{name: "nok, typ at+jwt: an access token is no assertion", expectDescription: "unexpected typ",
			whenAssertion: key.sign(t, claims(nil), map[string]any{"typ": "at+jwt"})},
		{name: "nok, not a JWT", expectDescription: "not a well-formed JWT", whenAssertion: "not.a.jwt"},
		{name: "nok, a header without alg", expectDescription: "signature or algorithm", whenAssertion: "e30.e30.e30"},
		{name: "nok, a scope beyond the issuer's", expectCode: "invalid_scope", expectDescription: "what the assertion's issuer may grant",
			whenAssertion: key.sign(t, claims(nil), nil), whenScope: "admin"},
		{name: "nok, a scope beyond the client's", expectCode: "invalid_scope",
			whenAssertion: key.sign(t, claims(nil), nil), whenScope: "delete"},
		{name: "nok, no assertion", expectCode: "invalid_request", expectDescription: "assertion parameter is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := tc.expectCode
			if code == "" {
				code = "invalid_grant"
			}
			extra := url.Values{}
			if tc.whenScope != "" {
				extra.Set("scope", tc.whenScope)
			}
			f := url.Values{"grant_type": {oauth2server.GrantJWTBearer}}
			if tc.whenAssertion != "" {
				f.Set("assertion", tc.whenAssertion)
			}
			for k, v := range extra {
				f[k] = v
			}
			r := env.do(tokenReq{body: f.Encode(), auth: basic(bearerID, bearerPass)})
			requireError(t, r, http.StatusBadRequest, code, false)
			assert.Contains(t, r.body["error_description"], tc.expectDescription)
		})
	}

	t.Run("nok, a public client may not use the grant by default", func(t *testing.T) {
		f := url.Values{"grant_type": {oauth2server.GrantJWTBearer}, "assertion": {key.sign(t, claims(nil), nil)},
			"client_id": {"bearer-public"}}
		requireError(t, env.do(tokenReq{body: f.Encode()}), http.StatusBadRequest, "unauthorized_client", false)
	})
	t.Run("nok, a client without the grant", func(t *testing.T) {
		f := url.Values{"grant_type": {oauth2server.GrantJWTBearer}, "assertion": {key.sign(t, claims(nil), nil)}}
		requireError(t, env.do(tokenReq{body: f.Encode(), auth: basic(confID, confSecret)}), http.StatusBadRequest,
			"unauthorized_client", false)
	})
}

// Of concurrent presentations of one assertion exactly one gets a token.
func TestJWTBearerGrantConcurrentReplay(t *testing.T) {
	env := newBearerEnv(t, nil)
	raw := env.issuerKeys[idpES].sign(t, bearerClaims(idpES, env.clock.Now()), nil)
	body := url.Values{"grant_type": {oauth2server.GrantJWTBearer}, "assertion": {raw}}.Encode()
	const n = 16
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := tokenReq{body: body, auth: basic(bearerID, bearerPass)}.build()
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
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusBadRequest: n - 1}, count)
}

func TestJWTBearerGrantSetup(t *testing.T) {
	t.Run("ok, enabled by default with TrustedIssuerModel and listed in metadata", func(t *testing.T) {
		env := newTestEnv(t)
		assert.True(t, env.srv.GrantEnabled(oauth2server.GrantJWTBearer))
		m, err := env.srv.Metadata(oauth2server.Endpoints{Token: tokenURL})
		require.NoError(t, err)
		assert.Contains(t, m.GrantTypesSupported, oauth2server.GrantJWTBearer)
	})
	t.Run("nok, listed without TrustedIssuerModel", func(t *testing.T) {
		_, err := oauth2server.New(verifyingModel{minimalModel{memorymodelNew()}}, oauth2server.Options{
			Grants: []string{oauth2server.GrantJWTBearer}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "needs TrustedIssuerModel")
	})
	t.Run("ok, an extension grant of the same type replaces the built-in", func(t *testing.T) {
		called := false
		env := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
			o.ExtensionGrants = map[string]oauth2server.ExtensionGrant{oauth2server.GrantJWTBearer: oauth2server.ExtensionGrantFunc(
				func(context.Context, *oauth2server.TokenRequest) (*oauth2server.GrantResult, error) {
					called = true
					return &oauth2server.GrantResult{Scope: []string{"read"}}, nil
				})}
		}))
		require.NoError(t, env.model.AddClient(context.Background(), &oauth2server.Client{ID: bearerID,
			SecretHash: oauth2server.HashSecret(bearerPass), Grants: []string{oauth2server.GrantJWTBearer}, Scopes: []string{"read"}}))
		r := env.do(tokenReq{body: url.Values{"grant_type": {oauth2server.GrantJWTBearer}, "assertion": {"anything"}}.Encode(),
			auth: basic(bearerID, bearerPass)})
		requireOK(t, r)
		assert.True(t, called)
	})
}

// memorymodelNew is a fresh memorymodel, for tests that hide some of it.
func memorymodelNew() *memorymodel.Model { return memorymodel.New() }
