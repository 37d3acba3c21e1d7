package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// The Connected apps page in a real browser: after the user authorized the
// demo app it is listed with its scope; Disconnect revokes its tokens (the
// refresh token and the access token stop working) and forgets the
// consent, and the page says so.
func TestBrowserConnectedApps(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	ctx := chromium(t)
	conf := ts.codeClient("read", "write")
	state := randomToken()
	verifier := oauth2.GenerateVerifier()

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))),
		fillLogin(),
		chromedp.WaitVisible(chromedp.CSS(`button[name=decision][value=approve]`)),
		chromedp.Click(chromedp.CSS(`button[name=decision][value=approve]`)),
		chromedp.WaitVisible(chromedp.ID("code")),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	u, err := url.Parse(loc)
	require.NoError(t, err)
	tok, err := conf.Exchange(t.Context(), u.Query().Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	require.NotEmpty(t, tok.RefreshToken)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.base+"/"),
		chromedp.Click(chromedp.CSS(`a[href="/apps"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.app[data-client="`+demoPublicClient+`"]`)),
	))
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr.app[data-client="`+demoPublicClient+`"]`)))
	require.NoError(t, err)
	assert.Contains(t, row, "read write")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`tr.app[data-client="`+demoPublicClient+`"] button`)),
		chromedp.WaitVisible(chromedp.ID("revoked")),
		chromedp.WaitVisible(chromedp.ID("none")),
	))

	// The app's tokens no longer work: the refresh token is invalid_grant,
	// the access token is refused by the API.
	_, err = conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "invalid_grant", re.ErrorCode)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.base+mePath, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// Disconnecting needs the session's CSRF token: a post from another site,
// which cannot read it, changes nothing.
func TestConnectedAppsRevokeNeedsCSRF(t *testing.T) {
	ts := startApp(t, appConfig{})
	c := browser(t)
	ts.login(t, c)
	resp, body := post(t, c, ts.base+appsPath, url.Values{"client_id": {demoPublicClient}, "csrf_token": {"forged"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	resp, _ = get(t, c, ts.base+appsPath)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	anon := browser(t)
	resp, _ = get(t, anon, ts.base+appsPath)
	assert.Equal(t, http.StatusFound, resp.StatusCode, "an anonymous visitor is sent to the login page")
	assert.Equal(t, loginPath+"?return_to="+appsPath, resp.Header.Get("Location"))
}
