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
