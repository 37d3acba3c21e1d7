package main

import (
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// The authorization code flow in a real browser: open the authorization
// URL, sign in, approve or deny on the consent page, land on the redirect
// URI with the code (or error) and the right state.
func TestBrowserCodeFlow(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name        string
		whenButton  string
		expectError string
	}{
		{name: "ok, approve", whenButton: "approve"},
		{name: "nok, deny", whenButton: "deny", expectError: "access_denied"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
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
			))
			if shot := os.Getenv("EXAMPLE_SCREENSHOT"); shot != "" && tc.whenButton == "approve" {
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 is PNG
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(shot, png, 0o644))
			}
			scopes, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`ul.scopes`)))
			require.NoError(t, err)
			assert.Contains(t, scopes, "read")
			assert.Contains(t, scopes, "write")

			require.NoError(t, chromedp.Do(ctx,
				chromedp.Click(chromedp.CSS(`button[name=decision][value=`+tc.whenButton+`]`)),
				chromedp.WaitVisible(chromedp.CSS(`h1`)),
			))
			if tc.expectError != "" {
				require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("error"))))
			} else {
				require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("code"))))
			}
			loc, err := chromedp.Run(ctx, chromedp.Location())
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(loc, ts.base+callbackPath+"?"), loc)
			u, err := url.Parse(loc)
			require.NoError(t, err)
			q := u.Query()
			assert.Equal(t, state, q.Get("state"))
			assert.Equal(t, tc.expectError, q.Get("error"))
			assert.Equal(t, ts.base, q.Get("iss"), "R-47")
			if tc.expectError != "" {
				assert.Empty(t, q.Get("code"))
				return
			}
			require.NotEmpty(t, q.Get("code"))
			// The code the browser carried works for the client.
			tok, err := conf.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
			require.NoError(t, err)
			assert.NotEmpty(t, tok.AccessToken)
		})
	}
}
