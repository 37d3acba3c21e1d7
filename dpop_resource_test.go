package oauth2server_test

import (
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oauthmw "github.com/echo-oauth2/oauth2server/middleware"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// The URL of the protected route as httptest.NewRequest addresses it.
const apiHTU = "http://example.com/api/me"

// protect mounts GET /api/me and GET /api/admin (scope admin) behind the
// Authenticate middleware of both layers.
func (env *testEnv) protect() {
	h := func(c echo.Context) error { return c.String(http.StatusOK, "ok") }
	g := env.echo.Group("/api", oauthmw.Authenticate(env.srv))
	g.GET("/me", h)
	g.GET("/admin", h, oauthmw.RequireScope("admin"))
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	auth := nethttp.Authenticate(env.srv)
	env.mux.Handle("GET /api/me", auth(ok))
	env.mux.Handle("GET /api/admin", auth(nethttp.RequireScope("admin")(ok)))
}

// call sends GET path with the Authorization and DPoP headers through one
// layer.
func call(h http.Handler, path, authorization string, proofs ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// boundToken issues a DPoP-bound access token of confID for key, with
// scope read.
func (env *testEnv) boundToken(k *dpopKey) string {
	env.t.Helper()
	got := env.dpopToken(clientCredentials, confID, confSecret, k.proof(env.t, env.clock.Now(), http.MethodPost, tokenHTU, "", proofOpts{}))
	require.Equal(env.t, http.StatusOK, got.status, got.raw)
	require.Equal(env.t, "DPoP", got.body["token_type"])
	return str(got.body["access_token"])
}

// at the resource server a DPoP-bound token needs the DPoP
// scheme and a proof of its key for this request and this token; a
// bearer token keeps working on the same route; failures carry a DPoP
// challenge with the algorithms.
func TestDPoPAtResourceServer(t *testing.T) {
	t.Parallel()
	const algs = `algs="ES256 EdDSA PS256 RS256"`
	var testCases = []struct {
		name            string
		path            string
		build           func(t *testing.T, env *testEnv, k, other *dpopKey, at, bearer string) (authz string, proofs []string)
		twice           bool
		expectStatus    int
		expectCode      string
		expectChallenge string
	}{
		{name: "ok, DPoP scheme with a proof of the key", expectStatus: http.StatusOK,
			build: func(t *testing.T, env *testEnv, k, _ *dpopKey, at, _ string) (string, []string) {
				return "DPoP " + at, []string{k.proof(t, env.clock.Now(), http.MethodGet, apiHTU, at, proofOpts{})}
			}},
		{name: "ok, a bearer token on the same route", expectStatus: http.StatusOK,
			build: func(_ *testing.T, _ *testEnv, _, _ *dpopKey, _, bearer string) (string, []string) {
				return "Bearer " + bearer, nil
			}},
		{name: "nok, DPoP-bound token sent as Bearer", expectStatus: http.StatusUnauthorized, expectCode: "invalid_token",
			expectChallenge: `DPoP realm="oauth2server", error="invalid_token"`,
			build: func(t *testing.T, env *testEnv, k, _ *dpopKey, at, _ string) (string, []string) {
				return "Bearer " + at, []string{k.proof(t, env.clock.Now(), http.MethodGet, apiHTU, at, proofOpts{})}
			}},
		{name: "nok, DPoP scheme without a proof", expectStatus: http.StatusUnauthorized, expectCode: "invalid_dpop_proof",
			expectChallenge: `DPoP realm="oauth2server", error="invalid_dpop_proof"`,
			build: func(_ *testing.T, _ *testEnv, _, _ *dpopKey, at, _ string) (string, []string) {
				return "DPoP " + at, nil
			}},
		{name: "nok, proof without ath", expectStatus: http.StatusUnauthorized, expectCode: "invalid_dpop_proof",
			build: func(t *testing.T, env *testEnv, k, _ *dpopKey, at, _ string) (string, []string) {
				return "DPoP " + at, []string{k.proof(t, env.clock.Now(), http.MethodGet, apiHTU, "", proofOpts{})}
			}},
		{name: "nok, proof with the ath of another token", expectStatus: http.StatusUnauthorized, expectCode: "invalid_dpop_proof",
			build: func(t *testing.T, env *testEnv, k, _ *dpopKey, at, bearer string) (string, []string) {
				return "DPoP " + at, []string{k.proof(t, env.clock.Now(), http.MethodGet, apiHTU, bearer, proofOpts{})}
			}},
		{name: "nok, proof with ath of another encoding", expectStatus: http.StatusUnauthorized, expectCode: "invalid_dpop_proof",
			build: func(t *testing.T, env *testEnv, k, _ *dpopKey, at, _ string) (string, []string) {
				sum := sha256.Sum256([]byte(at))
				return "DPoP " + at, []string{k.proof(t, env.clock.Now(), http.MethodGet, apiHTU, "", proofOpts{
					claims: func(c jwt.MapClaims) { c["ath"] = b64u(sum[:]) + "=" }})}
			}},
		{name: "nok, proof of another key", expectStatus: http.StatusUnauthorized, expectCode: "invalid_dpop_proof",
			expectChallenge: `error_description="The DPoP proof's key is not the one the access token is bound to."`,
			build: func(t *testing.T, env *testEnv, _, other *dpopKey, at, _ string) (string, []string) {
				return "DPoP " + at, []string{other.proof(t, env.clock.Now(), http.MethodGet, apiHTU, at, proofOpts{})}
			}},
		{name: "nok, proof for the token endpoint", expectStatus: http.StatusUnauthorized, expectCode: "invalid_dpop_proof",
			build: func(t *testing.T, env *testEnv, k, _ *dpopKey, at, _ string) (string, []string) {
				return "DPoP " + at, []string{k.proof(t, env.clock.Now(), http.MethodGet, tokenHTU, at, proofOpts{})}
			}},
		{name: "nok, proof for another method", expectStatus: http.StatusUnauthorized, expectCode: "invalid_dpop_proof",
			build: func(t *testing.T, env *testEnv, k, _ *dpopKey, at, _ string) (string, []string) {
				return "DPoP " + at, []string{k.proof(t, env.clock.Now(), http.MethodPost, apiHTU, at, proofOpts{})}
			}},
		{name: "nok, replayed proof", twice: true, expectStatus: http.StatusUnauthorized, expectCode: "invalid_dpop_proof",
			build: func(t *testing.T, env *testEnv, k, _ *dpopKey, at, _ string) (string, []string) {
				return "DPoP " + at, []string{k.proof(t, env.clock.Now(), http.MethodGet, apiHTU, at, proofOpts{})}
			}},
		{name: "nok, bearer token with the DPoP scheme", expectStatus: http.StatusUnauthorized, expectCode: "invalid_token",
			expectChallenge: `DPoP realm="oauth2server", error="invalid_token"`,
			build: func(t *testing.T, env *testEnv, k, _ *dpopKey, _, bearer string) (string, []string) {
				return "DPoP " + bearer, []string{k.proof(t, env.clock.Now(), http.MethodGet, apiHTU, bearer, proofOpts{})}
			}},
		{name: "nok, unknown token with the DPoP scheme", expectStatus: http.StatusUnauthorized, expectCode: "invalid_token",
			expectChallenge: `DPoP realm="oauth2server", error="invalid_token"`,
			build: func(t *testing.T, env *testEnv, k, _ *dpopKey, _, _ string) (string, []string) {
				return "DPoP unknown", []string{k.proof(t, env.clock.Now(), http.MethodGet, apiHTU, "unknown", proofOpts{})}
			}},
		{name: "nok, malformed DPoP credential", expectStatus: http.StatusBadRequest, expectCode: "invalid_request",
			build: func(_ *testing.T, _ *testEnv, _, _ *dpopKey, _, _ string) (string, []string) {
				return "DPoP a b", nil
			}},
		{name: "nok, no token: both challenges", expectStatus: http.StatusUnauthorized,
			expectChallenge: `Bearer realm="oauth2server", DPoP realm="oauth2server", ` + algs,
			build:           func(_ *testing.T, _ *testEnv, _, _ *dpopKey, _, _ string) (string, []string) { return "", nil }},
		{name: "nok, DPoP token without the scope", path: "/api/admin", expectStatus: http.StatusForbidden,
			expectCode: "insufficient_scope", expectChallenge: `DPoP realm="oauth2server", error="insufficient_scope"`,
			build: func(t *testing.T, env *testEnv, k, _ *dpopKey, at, _ string) (string, []string) {
				return "DPoP " + at, []string{k.proof(t, env.clock.Now(), http.MethodGet, "http://example.com/api/admin", at, proofOpts{})}
			}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, withDPoP(nil))
			env.protect()
			k, other := newDPoPKey(t, "ES256"), newDPoPKey(t, "ES256")
			at := env.boundToken(k)
			bearer := env.confToken(clientCredentials)
			path := "/api/me"
			if tc.path != "" {
				path = tc.path
			}
			for layer, h := range map[string]http.Handler{"echo": env.echo, "net/http": env.mux} {
				authz, proofs := tc.build(t, env, k, other, at, str(bearer.body["access_token"]))
				if tc.twice {
					require.Equal(t, http.StatusOK, call(h, path, authz, proofs...).Code, layer)
				}
				rec := call(h, path, authz, proofs...)
				assert.Equal(t, tc.expectStatus, rec.Code, "%s: %s", layer, rec.Body)
				ch := rec.Header().Get("WWW-Authenticate")
				if tc.expectStatus == http.StatusOK {
					assert.Empty(t, ch, layer)
					continue
				}
				if tc.expectChallenge != "" {
					assert.Contains(t, ch, tc.expectChallenge, layer)
				}
				if tc.expectCode != "" && tc.expectCode != "invalid_request" {
					assert.Contains(t, ch, `error="`+tc.expectCode+`"`, layer)
				}
				if strings.Contains(ch, "DPoP") {
					assert.Contains(t, ch, algs, layer, "a DPoP challenge names the algorithms")
				}
				var body map[string]any
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), layer)
				if tc.expectCode != "" {
					assert.Equal(t, tc.expectCode, body["error"], layer)
				}
			}
		})
	}
}

// with RequireNonce the resource server answers a proof
// without the nonce 401 use_dpop_nonce with a DPoP-Nonce header.
func TestDPoPNonceAtResourceServer(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withDPoP(func(o *oauth2server.DPoPOptions) { o.RequireNonce = true }))
	env.protect()
	k := newDPoPKey(t, "ES256")
	nonce := env.srv.DPoPNonce()
	require.NotEmpty(t, nonce)
	withNonce := proofOpts{claims: func(c jwt.MapClaims) { c["nonce"] = nonce }}
	got := env.dpopToken(clientCredentials, confID, confSecret, k.proof(t, env.clock.Now(), http.MethodPost, tokenHTU, "", withNonce))
	require.Equal(t, http.StatusOK, got.status, got.raw)
	at := str(got.body["access_token"])
	for layer, h := range map[string]http.Handler{"echo": env.echo, "net/http": env.mux} {
		rec := call(h, "/api/me", "DPoP "+at, k.proof(t, env.clock.Now(), http.MethodGet, apiHTU, at, proofOpts{}))
		assert.Equal(t, http.StatusUnauthorized, rec.Code, layer)
		assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `DPoP realm="oauth2server", error="use_dpop_nonce"`, layer)
		assert.Equal(t, nonce, rec.Header().Get("DPoP-Nonce"), layer)
		rec = call(h, "/api/me", "DPoP "+at, k.proof(t, env.clock.Now(), http.MethodGet, apiHTU, at, withNonce))
		assert.Equal(t, http.StatusOK, rec.Code, "%s: %s", layer, rec.Body)
	}
}
