package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// the JSON endpoints answer a wrong method and a body over the
// limit with an OAuth error that caches may not keep, not with Echo's own
// 405 or 413.
func TestEndpointErrorsNotStored(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	var testCases = []struct {
		name         string
		whenMethod   string
		whenBody     string
		expectStatus int
	}{
		{name: "nok, GET", whenMethod: http.MethodGet, expectStatus: http.StatusMethodNotAllowed},
		{name: "nok, PUT", whenMethod: http.MethodPut, whenBody: "token=x", expectStatus: http.StatusMethodNotAllowed},
		{name: "nok, body over 64 KiB", whenMethod: http.MethodPost, whenBody: "token=" + strings.Repeat("x", 70<<10),
			expectStatus: http.StatusRequestEntityTooLarge},
	}
	for _, path := range []string{tokenPath, oauthPrefix + "/revoke", oauthPrefix + "/introspect", deviceAuthorizationPath} {
		for _, tc := range testCases {
			t.Run(path+" "+tc.name, func(t *testing.T) {
				req, err := http.NewRequest(tc.whenMethod, ts.base+path, strings.NewReader(tc.whenBody))
				require.NoError(t, err)
				if tc.whenBody != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				assert.Equal(t, tc.expectStatus, resp.StatusCode)
				assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
				var body map[string]any
				require.NoError(t, json.Unmarshal(b, &body), string(b))
				assert.Equal(t, "invalid_request", body["error"])
			})
		}
	}
}

// RFC 9110 §9.3.2: every page and document served for GET answers HEAD
// with the same status and headers and no body.
func TestHEAD(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	for _, path := range []string{
		"/",
		loginPath,
		callbackPath + "?code=x&state=y",
		devicePath,
		authorizePath + "?response_type=code&client_id=" + demoPublicClient,
		"/.well-known/oauth-authorization-server",
		"/static/style.css",
		mePath,
	} {
		t.Run(path, func(t *testing.T) {
			c := browser(t)
			get, getBody := get(t, c, ts.base+path)
			req, err := http.NewRequest(http.MethodHead, ts.base+path, nil)
			require.NoError(t, err)
			head, err := c.Do(req)
			require.NoError(t, err)
			defer head.Body.Close()
			headBody, err := io.ReadAll(head.Body)
			require.NoError(t, err)
			if get.StatusCode == http.StatusOK {
				require.NotEmpty(t, getBody)
			}
			assert.Equal(t, get.StatusCode, head.StatusCode)
			for _, h := range []string{"Content-Type", "Cache-Control", "Location", "X-Frame-Options", "WWW-Authenticate"} {
				assert.Equal(t, get.Header.Get(h), head.Header.Get(h), h)
			}
			assert.Empty(t, headBody)
		})
	}
	// HEAD where there is no GET is still refused.
	req, err := http.NewRequest(http.MethodHead, ts.base+logoutPath, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
