package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// oidcRequest is an OpenID Connect authentication request of the public
// demo client with PKCE and a nonce.
type oidcRequest struct {
	conf     *oauth2.Config
	verifier string
	nonce    string
}

func (ts *testServer) oidcRequest(scopes ...string) *oidcRequest {
	if len(scopes) == 0 {
		scopes = []string{"openid", "profile", "email"}
	}
	return &oidcRequest{conf: ts.codeClient(scopes...), verifier: oauth2.GenerateVerifier(), nonce: randomToken()}
}

// url is the request's URL; extra are more parameters, name and value.
func (r *oidcRequest) url(state string, extra ...string) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(r.verifier), oauth2.SetAuthURLParam("nonce", r.nonce)}
	for i := 0; i+1 < len(extra); i += 2 {
		opts = append(opts, oauth2.SetAuthURLParam(extra[i], extra[i+1]))
	}
	return r.conf.AuthCodeURL(state, opts...)
}

// idToken redeems the code of a redirect to the callback and returns the
// ID token's claims, verified as the demo client verifies them.
func (ts *testServer) idToken(t *testing.T, r *oidcRequest, resp *http.Response) map[string]any {
	t.Helper()
	q := ts.redirectParams(t, resp)
	require.NotEmpty(t, q.Get("code"), "redirect: %v", q)
	tok, err := r.conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(r.verifier))
	require.NoError(t, err)
	raw, _ := tok.Extra("id_token").(string)
	require.NotEmpty(t, raw, "an ID token for the openid scope")
	v, err := ts.app.idTokens.verify(raw, r.nonce, tok.AccessToken)
	require.NoError(t, err)
	return v.claims
}

// loginThere follows a redirect to the login page, checks the page and
// signs in; it returns the login page and where the login sends back to.
func (ts *testServer) loginThere(t *testing.T, c *http.Client, resp *http.Response) (page, back string) {
	t.Helper()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loginURL := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(loginURL, loginPath+"?"), loginURL)
	_, page = get(t, c, ts.base+loginURL)
	m := returnToRe.FindStringSubmatch(page)
	require.NotNil(t, m)
	resp, _ = post(t, c, ts.base+loginPath, url.Values{
		"csrf_token": {csrfToken(t, page)}, "username": {demoUsername}, "password": {demoPassword},
		"return_to": {unescapeAttr(m[1])},
	})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	return page, resp.Header.Get("Location")
}

func unixOf(t *testing.T, claims map[string]any, name string) time.Time {
	t.Helper()
	v, ok := claims[name].(float64)
	require.True(t, ok, "%s in %v", name, claims)
	return time.Unix(int64(v), 0)
}

// The login page and the session as an OpenID Provider needs them:
// auth_time is the time of the last password login, which a request of the
// session does not move; prompt=login and an old login (max_age)
// show the login form again although the session is live, and the new
// login moves auth_time; prompt=none never shows a page.
func TestOpenIDLoginAndSession(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	ts := startApp(t, appConfig{now: clock.Now})
	c := browser(t)
	first := clock.Now()

	r := ts.oidcRequest()
	page := ts.consentPage(t, c, r.url("st-1"))
	assert.Contains(t, page, "Sign you in with your account", "the openid scope on the consent page")
	claims := ts.idToken(t, r, ts.decide(t, c, page, "approve"))
	assert.Equal(t, demoUsername, claims["sub"])
	assert.Equal(t, r.nonce, claims["nonce"], "R-123")
	assert.Equal(t, []any{"pwd"}, claims["amr"])
	assert.Equal(t, first, unixOf(t, claims, "auth_time"))

	// Later, within the session: a request reuses the login; auth_time
	// stays the time of the password login.
	clock.Add(5 * time.Minute)
	r = ts.oidcRequest()
	resp, page := get(t, c, r.url("st-2"))
	require.Equal(t, http.StatusOK, resp.StatusCode, "no login page: the session is live")
	claims = ts.idToken(t, r, ts.decide(t, c, page, "approve"))
	assert.Equal(t, first, unixOf(t, claims, "auth_time"), "R-122: silent reuse does not move auth_time")

	// max_age shorter than the login's age: the login page again.
	r = ts.oidcRequest()
	resp, _ = get(t, c, r.url("st-3", "max_age", "60"))
	loginPage, back := ts.loginThere(t, c, resp)
	assert.Contains(t, loginPage, `id="reauthenticate"`)
	assert.Contains(t, loginPage, `value="demo"`, "the session's user is prefilled")
	assert.Contains(t, back, "max_age=60", "max_age stays; the fresh login satisfies it")
	resp, page = get(t, c, ts.base+back)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the consent page: %s", page)
	claims = ts.idToken(t, r, ts.decide(t, c, page, "approve"))
	second := clock.Now()
	assert.Equal(t, second, unixOf(t, claims, "auth_time"), "the new login moved auth_time")

	// max_age longer than the login's age: no login page.
	clock.Add(time.Minute)
	r = ts.oidcRequest()
	resp, page = get(t, c, r.url("st-4", "max_age", "3600"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	claims = ts.idToken(t, r, ts.decide(t, c, page, "approve"))
	assert.Equal(t, second, unixOf(t, claims, "auth_time"), "R-122: auth_time is sent with max_age")

	// prompt=login: the login page although the login is a minute old.
	clock.Add(time.Minute)
	r = ts.oidcRequest()
	resp, _ = get(t, c, r.url("st-5", "prompt", "login"))
	require.Contains(t, resp.Header.Get("Location"), "prompt=login")
	loginPage, back = ts.loginThere(t, c, resp)
	assert.Contains(t, loginPage, `id="reauthenticate"`)
	assert.NotContains(t, back, "prompt", "the login satisfied prompt=login")
	_, page = get(t, c, ts.base+back)
	claims = ts.idToken(t, r, ts.decide(t, c, page, "approve"))
	assert.Equal(t, clock.Now(), unixOf(t, claims, "auth_time"))

	// prompt=none: the public loopback client needs the consent page
	// every time, which prompt=none forbids; without a session,
	// the login page is forbidden too. Both are redirected errors.
	r = ts.oidcRequest()
	resp, _ = get(t, c, r.url("st-6", "prompt", "none"))
	require.Equal(t, http.StatusFound, resp.StatusCode)
	q := ts.redirectParams(t, resp)
	assert.Equal(t, "consent_required", q.Get("error"))
	assert.Equal(t, "st-6", q.Get("state"))
	resp, _ = get(t, browser(t), r.url("st-7", "prompt", "none"))
	require.Equal(t, http.StatusFound, resp.StatusCode)
	q = ts.redirectParams(t, resp)
	assert.Equal(t, "login_required", q.Get("error"))
	assert.Equal(t, "st-7", q.Get("state"))
}

// login_hint prefills the username, escaped, and an absurdly long one is
// ignored; without prompt=login a signed-in visitor may continue.
func TestLoginPageHints(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	r := ts.oidcRequest()
	resp, _ := get(t, browser(t), r.url("st", "login_hint", `alice"><b>`))
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loginURL := resp.Header.Get("Location")
	assert.Contains(t, loginURL, "login_hint=alice")
	assert.NotContains(t, loginURL, "prompt=login", "nobody is signed in: an ordinary login")
	_, page := get(t, browser(t), ts.base+loginURL)
	assert.Contains(t, page, `value="alice&#34;&gt;&lt;b&gt;"`)
	assert.NotContains(t, page, `id="reauthenticate"`)

	_, page = get(t, browser(t), ts.base+loginPath+"?login_hint="+strings.Repeat("a", maxLoginHint+1))
	assert.NotContains(t, page, strings.Repeat("a", maxLoginHint+1))

	c := browser(t)
	ts.login(t, c)
	_, page = get(t, c, ts.base+loginPath+"?return_to=%2Foauth%2Fauthorize%3Fx%3D1")
	assert.Contains(t, page, `id="signed-in"`)
	assert.Contains(t, page, `<a href="/oauth/authorize?x=1">Continue</a>`)
	assert.NotContains(t, page, `value="demo"`, "no prefill without prompt=login")
}

// RP-initiated logout without an ID token: the end session endpoint asks
// the user first, on the example's page, and the confirmation ends the
// session; a post_logout_redirect_uri without a hint is refused on a page,
// never redirected.
func TestEndSession(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	c := browser(t)
	ts.login(t, c)

	resp, page := get(t, c, ts.base+endSessionPath+"?client_id="+demoPublicClient)
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	assert.Contains(t, page, "Sign out?")
	assert.Contains(t, page, "Signed in as <strong>demo</strong>")
	assert.Contains(t, page, "but may not come from it", "without a hint the client is only a claim")
	_, home := get(t, c, ts.base+"/")
	require.Contains(t, home, "Signed in as", "nothing happened before the confirmation")

	m := actionRe.FindStringSubmatch(page)
	require.NotNil(t, m)
	resp, page = post(t, c, ts.base+unescapeAttr(m[1]), hiddenFields(page))
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	assert.Contains(t, page, `id="logged-out"`)
	_, home = get(t, c, ts.base+"/")
	assert.NotContains(t, home, "Signed in as")

	resp, page = get(t, c, ts.base+endSessionPath+"?"+url.Values{"client_id": {demoPublicClient},
		"post_logout_redirect_uri": {ts.base + "/"}}.Encode())
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
	assert.Contains(t, page, "Sign-out failed")
}
