package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// A pushed authorization request (RFC 9126) in a real browser: the client
// pushes its parameters to the PAR endpoint, the browser carries only
// client_id and request_uri through login and consent, and the code it
// brings back is redeemed with golang.org/x/oauth2. The request_uri is
// single use: opening it again after the decision is an error page.
func TestBrowserPushedAuthorizationRequest(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	ctx := chromium(t)
	conf := ts.codeClient("read")
	state := randomToken()
	verifier := oauth2.GenerateVerifier()

	// The push: what AuthCodeURL would have put in the query.
	auth, err := url.Parse(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
	require.NoError(t, err)
	resp, err := http.PostForm(ts.base+"/oauth/par", auth.Query())
	require.NoError(t, err)
	var pushed struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&pushed))
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.True(t, strings.HasPrefix(pushed.RequestURI, "urn:ietf:params:oauth:request_uri:"), pushed.RequestURI)
	assert.Positive(t, pushed.ExpiresIn)

	front := ts.base + authorizePath + "?" + url.Values{"client_id": {demoPublicClient}, "request_uri": {pushed.RequestURI}}.Encode()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(front),
		fillLogin(),
		chromedp.WaitVisible(chromedp.CSS(`button[name=decision][value=approve]`)),
		chromedp.Click(chromedp.CSS(`button[name=decision][value=approve]`)),
		chromedp.WaitVisible(chromedp.ID("code")),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	u, err := url.Parse(loc)
	require.NoError(t, err)
	assert.Equal(t, state, u.Query().Get("state"), "the pushed state comes back")
	tok, err := conf.Exchange(t.Context(), u.Query().Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)

	// Spent by the decision: the same request_uri is refused now.
	resp, err = http.Get(front)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}
