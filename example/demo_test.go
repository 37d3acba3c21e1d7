package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// startDemo opens /demo in c and returns the authorization request it
// redirects to and the cookie it sets.
func (ts *testServer) startDemo(t *testing.T, c *http.Client) (*url.URL, *http.Cookie) {
	t.Helper()
	resp, _ := get(t, c, ts.base+demoPath)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	auth, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, ts.base+authorizePath, auth.Scheme+"://"+auth.Host+auth.Path)
	var ck *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == demoCookie {
			ck = k
		}
	}
	require.NotNil(t, ck, "the demo keeps its state and verifier in a cookie")
	return auth, ck
}

var (
	bearerRe = regexp.MustCompile(`Authorization: Bearer ([A-Za-z0-9._~-]+)`)
	claimRe  = regexp.MustCompile(`<tr><th>([a-z_]+)</th><td><code>([^<]*)</code></td></tr>`)
	tableRe  = regexp.MustCompile(`(?s)<table class="claims" id="([a-z]+)">(.*?)</table>`)
)

// claimsOf returns the claims of the table with id on the callback page.
func claimsOf(page, id string) map[string]string {
	out := map[string]string{}
	for _, t := range tableRe.FindAllStringSubmatch(page, -1) {
		if t[1] != id {
			continue
		}
		for _, m := range claimRe.FindAllStringSubmatch(t[2], -1) {
			out[m[1]] = html.UnescapeString(m[2])
		}
	}
	return out
}

// each visitor of /demo gets its own state, PKCE
// verifier and nonce, kept in a short-lived HttpOnly cookie of its own
// browser (no server state for anonymous visitors). The callback redeems
// the code only for the browser whose cookie matches the returned state,
// verifies the ID token with the nonce, and shows its claims and the
// access token.
func TestDemoPerVisitor(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	alice, bob := browser(t), browser(t)
	authA, ckA := ts.startDemo(t, alice)
	authB, ckB := ts.startDemo(t, bob)

	qa, qb := authA.Query(), authB.Query()
	assert.NotEqual(t, qa.Get("state"), qb.Get("state"))
	assert.NotEqual(t, qa.Get("code_challenge"), qb.Get("code_challenge"))
	assert.NotEqual(t, qa.Get("nonce"), qb.Get("nonce"))
	assert.NotEqual(t, ckA.Value, ckB.Value)
	assert.Equal(t, demoPublicClient, qa.Get("client_id"))
	assert.Equal(t, ts.base+callbackPath, qa.Get("redirect_uri"))
	assert.Equal(t, "code", qa.Get("response_type"))
	assert.Equal(t, "S256", qa.Get("code_challenge_method"))
	assert.Equal(t, "openid profile email read write", qa.Get("scope"))
	assert.Len(t, qa.Get("nonce"), 43)
	assert.True(t, ckA.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, ckA.SameSite)
	assert.Equal(t, callbackPath, ckA.Path, "sent to the callback only")
	assert.Positive(t, ckA.MaxAge)
	assert.LessOrEqual(t, ckA.MaxAge, 600, "short-lived")

	// Alice signs in and approves; her callback page redeems the code and
	// shows the verified ID token and the access token.
	resp := ts.decide(t, alice, ts.consentPage(t, alice, authA.String()), "approve")
	require.Equal(t, qa.Get("state"), ts.redirectParams(t, resp).Get("state"))
	callback := resp.Header.Get("Location")
	_, page := get(t, alice, callback)
	require.Contains(t, page, `id="id-token-verified"`, page)
	assert.Contains(t, page, "matches the request")
	assert.Contains(t, page, "nonce is the one this browser sent")
	assert.NotContains(t, page, `id="result-error"`)
	claims := claimsOf(page, "claims")
	assert.Equal(t, demoUsername, claims["sub"])
	assert.Equal(t, demoPublicClient, claims["aud"])
	assert.Equal(t, ts.base, claims["iss"])
	assert.Equal(t, qa.Get("nonce"), claims["nonce"])
	assert.Equal(t, "pwd", claims["amr"])
	assert.NotEmpty(t, claims["auth_time"])
	// The claims request of the demo puts the profile and email claims of
	// the approved scopes into the ID token.
	assert.Equal(t, "Demo User", claims["name"])
	assert.Equal(t, "demo@example.com", claims["email"])
	assert.Equal(t, "true", claims["email_verified"])
	// UserInfo releases the claims of the approved scopes for the access
	// token, for the same sub.
	info := claimsOf(page, "userinfo")
	assert.Equal(t, map[string]string{"sub": demoUsername, "name": "Demo User", "preferred_username": demoUsername,
		"email": "demo@example.com", "email_verified": "true"}, info)
	assert.Contains(t, page, "UserInfo&#39;s sub is the ID token&#39;s")
	m := bearerRe.FindStringSubmatch(html.UnescapeString(page))
	require.NotNil(t, m, "the curl command with the access token: %s", page)
	status, me := apiGet(t, ts.codeClient().Client(t.Context(), &oauth2.Token{AccessToken: m[1]}), ts.base+mePath)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, demoUsername, me["sub"])

	// Anyone else opening the same callback URL sees no token: Bob,
	// whose cookie holds another state, a browser without a cookie, and
	// Alice again, whose cookie was spent (a second redemption would
	// revoke her tokens, R-49).
	for name, c := range map[string]*http.Client{"bob": bob, "no cookie": browser(t), "alice again": alice} {
		resp, page := get(t, c, callback)
		assert.Equal(t, http.StatusOK, resp.StatusCode, name)
		assert.NotContains(t, page, "Bearer", name)
		assert.NotContains(t, page, m[1], name)
		assert.NotContains(t, page, "matches the request", name)
		assert.Contains(t, page, `href="`+ts.base+demoPath+`"`, name)
	}
	status, _ = apiGet(t, ts.codeClient().Client(t.Context(), &oauth2.Token{AccessToken: m[1]}), ts.base+mePath)
	assert.Equal(t, http.StatusOK, status, "the token still works: nobody redeemed the code twice")
	// Bob's own browser with Alice's state gets nothing either.
	_, bobPage := get(t, bob, ts.base+callbackPath+"?"+url.Values{"code": {"x"}, "state": {qa.Get("state")}}.Encode())
	assert.NotContains(t, bobPage, "redeemed the code")

	// The client's logout button: its ID token proves the request, so the
	// end session endpoint signs Alice out at once and sends her home
	//
	form := hiddenFields(page)
	require.Equal(t, []string{"client_id", "id_token_hint", "post_logout_redirect_uri"}, slices.Sorted(maps.Keys(form)))
	resp, _ = post(t, alice, ts.base+endSessionPath, form)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, ts.base+"/", resp.Header.Get("Location"))
	_, home := get(t, alice, ts.base+"/")
	assert.NotContains(t, home, "Signed in as")
}

// Without OpenID Connect the demo asks for read and write alone, and the
// callback shows the access token.
func TestDemoWithoutOpenID(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{NoOpenID: true})
	c := browser(t)
	auth, ck := ts.startDemo(t, c)
	assert.Equal(t, "read write", auth.Query().Get("scope"))
	assert.Empty(t, auth.Query().Get("nonce"))
	assert.Equal(t, 1, strings.Count(ck.Value, "."), "state and verifier")
	resp := ts.decide(t, c, ts.consentPage(t, c, auth.String()), "approve")
	_, page := get(t, c, resp.Header.Get("Location"))
	assert.Contains(t, page, "redeemed the code")
	assert.NotContains(t, page, "ID token")
	assert.Regexp(t, bearerRe, page)
}

// The demo client's ID token checks (OIDC Core §3.1.3.7) refuse what a
// relying party must refuse.
func TestIDTokenVerifier(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	now := time.Now()
	v := ts.app.idTokens
	key, err := jwt.ParseRSAPrivateKeyFromPEM(mustRead(t, testSigningKey))
	require.NoError(t, err)
	kid := ts.app.srv.JWKS().Keys[0].Kid
	sign := func(mutate func(h map[string]any, c jwt.MapClaims)) string {
		claims := jwt.MapClaims{"iss": ts.base, "sub": demoUsername, "aud": demoPublicClient,
			"exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "nonce": "n-1", "at_hash": atHashOf("at")}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = kid
		if mutate != nil {
			mutate(tok.Header, claims)
		}
		raw, err := tok.SignedString(key)
		require.NoError(t, err)
		return raw
	}
	_, other, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	edToken, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": ts.base, "aud": demoPublicClient,
		"exp": now.Add(time.Minute).Unix(), "nonce": "n-1"}).SignedString(other)
	require.NoError(t, err)

	var testCases = []struct {
		name        string
		givenToken  string
		givenNonce  string
		expectError string
	}{
		{name: "ok", givenToken: sign(nil), givenNonce: "n-1"},
		{name: "ok, no at_hash", givenToken: sign(func(_ map[string]any, c jwt.MapClaims) { delete(c, "at_hash") }), givenNonce: "n-1"},
		{name: "nok, other nonce", givenToken: sign(nil), givenNonce: "n-2", expectError: "nonce"},
		{name: "nok, no nonce", givenToken: sign(func(_ map[string]any, c jwt.MapClaims) { delete(c, "nonce") }), givenNonce: "n-1", expectError: "nonce"},
		{name: "nok, other issuer", givenToken: sign(func(_ map[string]any, c jwt.MapClaims) { c["iss"] = "https://evil.example" }), givenNonce: "n-1", expectError: "issuer"},
		{name: "nok, other audience", givenToken: sign(func(_ map[string]any, c jwt.MapClaims) { c["aud"] = "demo-service" }), givenNonce: "n-1", expectError: "audience"},
		{name: "nok, azp of another client", givenToken: sign(func(_ map[string]any, c jwt.MapClaims) { c["azp"] = "demo-service" }), givenNonce: "n-1", expectError: "azp"},
		{name: "nok, expired", givenToken: sign(func(_ map[string]any, c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }), givenNonce: "n-1", expectError: "expired"},
		{name: "nok, no exp", givenToken: sign(func(_ map[string]any, c jwt.MapClaims) { delete(c, "exp") }), givenNonce: "n-1", expectError: "exp"},
		{name: "nok, at_hash of another token", givenToken: sign(func(_ map[string]any, c jwt.MapClaims) { c["at_hash"] = atHashOf("other") }), givenNonce: "n-1", expectError: "at_hash"},
		{name: "nok, unknown kid", givenToken: sign(func(h map[string]any, _ jwt.MapClaims) { h["kid"] = "nope" }), givenNonce: "n-1", expectError: "no key"},
		{name: "nok, EdDSA", givenToken: edToken, givenNonce: "n-1", expectError: "signing method EdDSA is invalid"},
		{name: "nok, tampered", givenToken: sign(nil)[:len(sign(nil))-2] + "AA", givenNonce: "n-1", expectError: "signature"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.verify(tc.givenToken, tc.givenNonce, "at")
			if tc.expectError != "" {
				assert.ErrorContains(t, err, tc.expectError)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, demoUsername, got.claims["sub"])
		})
	}
}

func atHashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// The demo client reaches the example in process; an https issuer's
// endpoints require TLS, which a request that never leaves the process
// stands for.
func TestInProcessTransport(t *testing.T) {
	t.Parallel()
	var gotTLS []bool
	tr := inProcessTransport{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotTLS = append(gotTLS, r.TLS != nil)
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Path", r.URL.Path)
		_, _ = w.Write(b)
	})}
	c := &http.Client{Transport: tr}
	for _, u := range []string{"https://auth.example.com/oauth/token", "http://127.0.0.1:9096/oauth/token"} {
		resp, err := c.Post(u, "text/plain", strings.NewReader("body"))
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, "body", string(b))
		assert.Equal(t, "/oauth/token", resp.Header.Get("X-Path"))
	}
	assert.Equal(t, []bool{true, false}, gotTLS)
}
