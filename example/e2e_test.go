package main

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// codeClient is the demo public client as golang.org/x/oauth2 sees it.
func (ts *testServer) codeClient(scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: demoPublicClient,
		Endpoint: oauth2.Endpoint{
			AuthURL:   ts.base + authorizePath,
			TokenURL:  ts.base + tokenPath,
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: ts.base + callbackPath,
		Scopes:      scopes,
	}
}

var (
	returnToRe = regexp.MustCompile(`name="return_to" value="([^"]+)"`)
	actionRe   = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
)

// unescapeAttr undoes html/template's escaping of an attribute value.
func unescapeAttr(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#39;", "'", "&quot;", `"`, "&lt;", "<", "&gt;", ">").Replace(s)
}

// redirectParams checks that resp redirects to the demo callback and
// returns the query of the Location.
func (ts *testServer) redirectParams(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, ts.base+callbackPath, loc.Scheme+"://"+loc.Host+loc.Path, "redirected to the registered URI")
	return loc.Query()
}

// consentPage walks a browser through login to the consent page of
// authURL and returns the page.
func (ts *testServer) consentPage(t *testing.T, c *http.Client, authURL string) string {
	t.Helper()
	resp, _ := get(t, c, authURL)
	require.Equal(t, http.StatusFound, resp.StatusCode, "an anonymous user is sent to the login page")
	loginURL := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(loginURL, loginPath+"?"), loginURL)

	_, body := get(t, c, ts.base+loginURL)
	m := returnToRe.FindStringSubmatch(body)
	require.NotNil(t, m)
	resp, _ = post(t, c, ts.base+loginPath, url.Values{
		"csrf_token": {csrfToken(t, body)}, "username": {demoUsername}, "password": {demoPassword},
		"return_to": {unescapeAttr(m[1])},
	})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	back := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(back, authorizePath+"?"), "login returns to the authorization request: %s", back)

	resp, body = get(t, c, ts.base+back)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	return body
}

// decide posts the consent form of page with the decision, as a browser
// does: every hidden field and the button pressed.
func (ts *testServer) decide(t *testing.T, c *http.Client, page, decision string) *http.Response {
	t.Helper()
	m := actionRe.FindStringSubmatch(page)
	require.NotNil(t, m, "no form on the consent page")
	form := hiddenFields(page)
	form.Set("decision", decision)
	resp, _ := post(t, c, ts.base+unescapeAttr(m[1]), form)
	return resp
}

func apiGet(t *testing.T, c *http.Client, u string) (int, map[string]any) {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// The whole authorization code flow with PKCE, as a real client library
// and a user with a browser do it: authorize → login → consent → code →
// token → API → refresh.
func TestCodeFlowPKCE(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	ctx := context.Background()
	conf := ts.codeClient("read", "write")
	verifier := oauth2.GenerateVerifier()
	state := randomToken()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	c := browser(t)
	page := ts.consentPage(t, c, authURL)
	assert.Contains(t, page, `<code>read</code>`)
	assert.Contains(t, page, `<code>write</code>`)
	assert.Contains(t, page, `name="decision" value="approve"`)
	assert.Contains(t, page, `name="decision" value="deny"`)

	resp := ts.decide(t, c, page, "approve")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "R-35: 303 after the consent POST")
	q := ts.redirectParams(t, resp)
	assert.Equal(t, state, q.Get("state"), "R-39: state round trip")
	assert.Equal(t, ts.base, q.Get("iss"), "R-47: iss in the response")
	code := q.Get("code")
	require.NotEmpty(t, code)

	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.TokenType)
	require.NotEmpty(t, tok.RefreshToken)

	status, me := apiGet(t, conf.Client(ctx, tok), ts.base+mePath)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]any{"sub": demoUsername, "client_id": demoPublicClient, "scope": "read write"}, me)

	// Refresh: a public client's refresh token rotates.
	expired := *tok
	expired.AccessToken = ""
	refreshed, err := conf.TokenSource(ctx, &expired).Token()
	require.NoError(t, err)
	assert.NotEqual(t, tok.AccessToken, refreshed.AccessToken)
	assert.NotEqual(t, tok.RefreshToken, refreshed.RefreshToken)
	status, _ = apiGet(t, conf.Client(ctx, refreshed), ts.base+writePath)
	assert.Equal(t, http.StatusOK, status)

	// Reusing the rotated refresh token revokes the family.
	_, err = conf.TokenSource(ctx, &expired).Token()
	assert.ErrorContains(t, err, "invalid_grant")
	status, _ = apiGet(t, conf.Client(ctx, refreshed), ts.base+mePath)
	assert.Equal(t, http.StatusUnauthorized, status)

	// the code is single use.
	_, err = conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	assert.ErrorContains(t, err, "invalid_grant")
}

// Replaying a code revokes the tokens it produced.
func TestCodeReplay(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	ctx := context.Background()
	conf := ts.codeClient("read")
	verifier := oauth2.GenerateVerifier()
	c := browser(t)
	page := ts.consentPage(t, c, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	code := ts.redirectParams(t, ts.decide(t, c, page, "approve")).Get("code")
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	status, _ := apiGet(t, conf.Client(ctx, tok), ts.base+mePath)
	require.Equal(t, http.StatusOK, status)

	_, err = conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	assert.ErrorContains(t, err, "invalid_grant")
	status, _ = apiGet(t, conf.Client(ctx, tok), ts.base+mePath)
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestCodeFlowDeny(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	conf := ts.codeClient("read")
	c := browser(t)
	page := ts.consentPage(t, c, conf.AuthCodeURL("st-deny", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	resp := ts.decide(t, c, page, "deny")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	q := ts.redirectParams(t, resp)
	assert.Equal(t, "access_denied", q.Get("error"))
	assert.Equal(t, "st-deny", q.Get("state"))
	assert.Empty(t, q.Get("code"))
	// the exact error response, iss included.
	assert.Equal(t, url.Values{"error": {"access_denied"}, "error_description": {"The resource owner denied the request."},
		"state": {"st-deny"}, "iss": {ts.base}}, q)

	// Nothing was remembered: the next request asks again.
	resp, body := get(t, c, conf.AuthCodeURL("st-2", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `value="approve"`)
	// The public loopback client sees the page every time anyway, so
	// check the store, and a client that would skip it.
	consent, err := ts.app.model.FindConsent(context.Background(), demoPublicClient, demoUsername)
	require.NoError(t, err)
	assert.Nil(t, consent)

	conf.ClientID = demoConfidentialClient
	c = browser(t)
	page = ts.consentPage(t, c, conf.AuthCodeURL("st-3"))
	require.Equal(t, http.StatusSeeOther, ts.decide(t, c, page, "deny").StatusCode)
	resp, body = get(t, c, conf.AuthCodeURL("st-4"))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a denial is not remembered as consent")
	assert.Contains(t, body, `value="approve"`)
}

// Remembered consent: a client the user approved for these scopes skips
// the consent page; wider scopes or a revoked consent show it again. The
// confidential demo client proves its identity at the token endpoint, so
// its repeated requests may be approved without the user.
func TestRememberedConsent(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	ctx := context.Background()
	conf := ts.codeClient("read")
	conf.ClientID, conf.ClientSecret = demoConfidentialClient, demoClientSecret
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	c := browser(t)
	page := ts.consentPage(t, c, conf.AuthCodeURL("st-1"))
	resp := ts.decide(t, c, page, "approve")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	consent, err := ts.app.model.FindConsent(ctx, demoConfidentialClient, demoUsername)
	require.NoError(t, err)
	require.NotNil(t, consent)
	assert.Equal(t, []string{"read"}, consent.Scope)

	resp, _ = get(t, c, conf.AuthCodeURL("st-2"))
	require.Equal(t, http.StatusFound, resp.StatusCode, "same scope: no consent page")
	q := ts.redirectParams(t, resp)
	assert.Equal(t, "st-2", q.Get("state"))
	tok, err := conf.Exchange(ctx, q.Get("code"))
	require.NoError(t, err, "the code works")
	assert.NotEmpty(t, tok.AccessToken)

	wide := ts.codeClient("read", "write")
	wide.ClientID = demoConfidentialClient
	resp, body := get(t, c, wide.AuthCodeURL("st-3"))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "wider scope: asked again")
	assert.Contains(t, body, `value="approve"`)

	require.NoError(t, ts.app.model.RevokeConsent(ctx, demoConfidentialClient, demoUsername))
	resp, _ = get(t, c, conf.AuthCodeURL("st-4"))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "withdrawn consent: asked again")
}

// the public demo client redirects to loopback, where any local
// program could listen: it sees the consent page every time.
func TestRememberedConsentNotForLoopbackPublicClient(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	conf := ts.codeClient("read")
	c := browser(t)
	ch := oauth2.S256ChallengeOption(oauth2.GenerateVerifier())
	page := ts.consentPage(t, c, conf.AuthCodeURL("st-1", ch))
	require.Equal(t, http.StatusSeeOther, ts.decide(t, c, page, "approve").StatusCode)
	consent, err := ts.app.model.FindConsent(context.Background(), demoPublicClient, demoUsername)
	require.NoError(t, err)
	require.NotNil(t, consent, "the approval is remembered")

	resp, body := get(t, c, conf.AuthCodeURL("st-2", ch))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `value="approve"`)
}

// the consent decision needs the form's token, which the library
// binds to the user, the request and the session, and spends when posted.
func TestConsentCSRF(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	conf := ts.codeClient("read")
	c := browser(t)
	authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	page := ts.consentPage(t, c, authURL)
	action := unescapeAttr(actionRe.FindStringSubmatch(page)[1])
	fields := hiddenFields(page)
	require.Equal(t, []string{"csrf_token"}, slices.Sorted(maps.Keys(fields)))
	_, other := get(t, c, conf.AuthCodeURL("st-other", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	otherFields := hiddenFields(other)
	with := func(v url.Values, kv ...string) url.Values {
		v = maps.Clone(v)
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	var testCases = []struct {
		name       string
		whenForm   url.Values
		expectCode int
	}{
		{name: "nok, no token", whenForm: url.Values{"decision": {"approve"}}, expectCode: http.StatusForbidden},
		{name: "nok, wrong token", whenForm: with(url.Values{}, "decision", "approve", "csrf_token", "x"), expectCode: http.StatusForbidden},
		{name: "nok, token of another request", whenForm: with(otherFields, "decision", "approve"), expectCode: http.StatusForbidden},
		// The cases above spent nothing: the form's own token is valid,
		// and the decision is checked before the token is spent.
		{name: "nok, unknown decision", whenForm: with(fields, "decision", "maybe"), expectCode: http.StatusBadRequest},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := post(t, c, ts.base+action, tc.whenForm)
			assert.Equal(t, tc.expectCode, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Location"))
		})
	}
}

// A consent form is single use: posting the same approval again (a
// double click, a replayed request) issues no second code.
func TestConsentFormSingleUse(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	conf := ts.codeClient("read")
	c := browser(t)
	page := ts.consentPage(t, c, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	resp := ts.decide(t, c, page, "approve")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.NotEmpty(t, ts.redirectParams(t, resp).Get("code"))

	for _, decision := range []string{"approve", "deny"} {
		resp = ts.decide(t, c, page, decision)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, decision)
		assert.Empty(t, resp.Header.Get("Location"), "no second code, no redirect")
	}
}

// A consent form belongs to the session that loaded it: another session
// of the same user cannot post it.
func TestConsentFormBoundToSession(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	conf := ts.codeClient("read")
	authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	a, b := browser(t), browser(t)
	pageA := ts.consentPage(t, a, authURL)
	ts.login(t, b)

	resp := ts.decide(t, b, pageA, "approve")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"), "no code")
	// The session that loaded it still can.
	assert.Equal(t, http.StatusSeeOther, ts.decide(t, a, pageA, "approve").StatusCode)
}

// Logging out makes the session's consent forms worthless, even for the
// same user logged in again in the same browser.
func TestConsentFormAfterLogout(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	conf := ts.codeClient("read")
	c := browser(t)
	page := ts.consentPage(t, c, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	_, home := get(t, c, ts.base+"/")
	resp, _ := post(t, c, ts.base+logoutPath, url.Values{"csrf_token": {csrfToken(t, home)}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	resp = ts.decide(t, c, page, "approve")
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), loginPath+"?"), "logged out: to the login page, no code")

	ts.login(t, c)
	resp = ts.decide(t, c, page, "approve")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a new session of the same user")
	assert.Empty(t, resp.Header.Get("Location"))
}

// a request whose redirect URI is not registered is shown to the
// user, never redirected.
func TestAuthorizeBadRedirectURI(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	conf := ts.codeClient("read")
	conf.RedirectURL = "https://evil.example/cb"
	resp, body := get(t, browser(t), conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Location"))
	assert.NotContains(t, body, "evil.example")
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
}

// The protected API: any valid token for /api/me, scope write for
// /api/write.
func TestAPI(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	ctx := context.Background()
	token := func(scope string) *http.Client {
		cc := clientcredentials.Config{ClientID: demoConfidentialClient, ClientSecret: demoClientSecret,
			TokenURL: ts.base + tokenPath, Scopes: []string{scope}}
		return cc.Client(ctx)
	}
	status, me := apiGet(t, token("read"), ts.base+mePath)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, map[string]any{"sub": demoConfidentialClient, "client_id": demoConfidentialClient, "scope": "read"}, me)

	resp, err := token("read").Get(ts.base + writePath)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `scope="write"`)
	status, _ = apiGet(t, token("write"), ts.base+writePath)
	assert.Equal(t, http.StatusOK, status)

	resp, err = http.Get(ts.base + mePath)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer"))
	assert.NotContains(t, resp.Header.Get("WWW-Authenticate"), "error=", "no error code without credentials")
}
