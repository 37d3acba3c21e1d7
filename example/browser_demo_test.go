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
// the curl command with the code verifier.
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
	pre, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`pre`)))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(pre, "curl -s "), pre)
	assert.Contains(t, pre, "code_verifier=")
}
