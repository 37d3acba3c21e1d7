package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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
		demoPath,
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
			for _, h := range []string{"Content-Type", "Cache-Control", "X-Frame-Options", "WWW-Authenticate"} {
				assert.Equal(t, get.Header.Get(h), head.Header.Get(h), h)
			}
			// The same target; /demo's query is new on every request.
			getTarget, _, _ := strings.Cut(get.Header.Get("Location"), "?")
			headTarget, _, _ := strings.Cut(head.Header.Get("Location"), "?")
			assert.Equal(t, getTarget, headTarget, "Location")
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

// request headers are capped (32 KiB): larger ones are refused with
// 431 before any handler runs.
func TestMaxHeaderBytes(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	hs := httptest.NewUnstartedServer(nil)
	hs.Config = newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	hs.Start()
	t.Cleanup(hs.Close)

	var testCases = []struct {
		name          string
		whenHeaderKiB int
		expectStatus  int
		expectReached int32
	}{
		{name: "ok, 16 KiB of headers", whenHeaderKiB: 16, expectStatus: http.StatusNoContent, expectReached: 1},
		{name: "nok, 40 KiB of headers", whenHeaderKiB: 40, expectStatus: http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			before := reached.Load()
			req, err := http.NewRequest(http.MethodGet, hs.URL+"/", nil)
			require.NoError(t, err)
			req.Close = true // a new connection, as an attacker's would be
			for i := range tc.whenHeaderKiB {
				req.Header.Set(fmt.Sprintf("X-Filler-%d", i), strings.Repeat("a", 1024))
			}
			resp, err := hs.Client().Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, tc.expectStatus, resp.StatusCode)
			assert.Equal(t, tc.expectReached, reached.Load()-before)
		})
	}
}
