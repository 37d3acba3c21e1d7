package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The demo as a visitor sees it: the home page's link starts a request of
// this browser's own, and after login and consent the callback page shows
// the verified ID token's claims, UserInfo and the curl command that calls
// the API, and its logout button signs out.
func TestBrowserDemo(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	ctx := chromium(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.base+"/"),
		chromedp.Click(chromedp.CSS(`a.button.primary`)),
		fillLogin(),
		chromedp.WaitVisible(chromedp.CSS(`button[name=decision][value=approve]`)),
		chromedp.Click(chromedp.CSS(`button[name=decision][value=approve]`)),
		chromedp.WaitVisible(chromedp.ID("code")),
	))
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	require.NoError(t, err)
	assert.Contains(t, text, "matches the request")
	assert.Contains(t, text, "nonce is the one this browser sent")
	claims, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("claims")))
	require.NoError(t, err)
	assert.Contains(t, claims, "Demo User")
	assert.Contains(t, claims, "demo@example.com")
	pre, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("curl")))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(pre, "curl -s -H 'Authorization: Bearer "), pre)
	assert.True(t, strings.HasSuffix(pre, ts.base+mePath+"'"), pre)
	info, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("userinfo")))
	require.NoError(t, err)
	assert.Contains(t, info, "demo@example.com")

	// The client's logout button signs out at the end session endpoint
	// and comes back home.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("rp-logout")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/login"]`)),
	))
	home, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	require.NoError(t, err)
	assert.NotContains(t, home, "Signed in as")
}
