package main

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

var verifierRe = regexp.MustCompile(`code_verifier='([A-Za-z0-9._~-]+)'`)

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

// each visitor of /demo gets its own state and PKCE verifier,
// kept in a short-lived HttpOnly cookie of its own browser (no server state
// for anonymous visitors), and the callback shows the verifier only to the
// browser whose cookie matches the returned state.
func TestDemoPerVisitor(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	alice, bob := browser(t), browser(t)
	authA, ckA := ts.startDemo(t, alice)
	authB, ckB := ts.startDemo(t, bob)

	qa, qb := authA.Query(), authB.Query()
	assert.NotEqual(t, qa.Get("state"), qb.Get("state"))
	assert.NotEqual(t, qa.Get("code_challenge"), qb.Get("code_challenge"))
	assert.NotEqual(t, ckA.Value, ckB.Value)
	assert.Equal(t, demoPublicClient, qa.Get("client_id"))
	assert.Equal(t, ts.base+callbackPath, qa.Get("redirect_uri"))
	assert.Equal(t, "code", qa.Get("response_type"))
	assert.Equal(t, "S256", qa.Get("code_challenge_method"))
	assert.True(t, ckA.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, ckA.SameSite)
	assert.Equal(t, callbackPath, ckA.Path, "sent to the callback only")
	assert.Positive(t, ckA.MaxAge)
	assert.LessOrEqual(t, ckA.MaxAge, 600, "short-lived")

	// Alice signs in and approves; her callback page shows the token
	// request with her verifier.
	resp := ts.decide(t, alice, ts.consentPage(t, alice, authA.String()), "approve")
	require.Equal(t, qa.Get("state"), ts.redirectParams(t, resp).Get("state"))
	callback := resp.Header.Get("Location")
	_, page := get(t, alice, callback)
	m := verifierRe.FindStringSubmatch(html.UnescapeString(page))
	require.NotNil(t, m, "the curl command with the verifier: %s", page)
	verifier := m[1]
	sum := sha256.Sum256([]byte(verifier))
	assert.Equal(t, qa.Get("code_challenge"), base64.RawURLEncoding.EncodeToString(sum[:]))
	assert.Contains(t, page, "matches the request")

	// Anyone else opening the same callback URL sees no verifier: Bob,
	// whose cookie holds another state, and a browser without a cookie.
	for name, c := range map[string]*http.Client{"bob": bob, "no cookie": browser(t)} {
		resp, page := get(t, c, callback)
		assert.Equal(t, http.StatusOK, resp.StatusCode, name)
		assert.NotContains(t, page, "code_verifier", name)
		assert.NotContains(t, page, verifier, name)
		assert.NotContains(t, page, "matches the request", name)
	}
	// Alice's own browser with another state sees none either.
	_, page = get(t, alice, ts.base+callbackPath+"?"+url.Values{"code": {"x"}, "state": {qb.Get("state")}}.Encode())
	assert.NotContains(t, page, "code_verifier")

	// The verifier Alice was shown redeems her code.
	tok, err := ts.codeClient().Exchange(t.Context(), ts.redirectParams(t, resp).Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
}
