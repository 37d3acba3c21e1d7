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

func (ts *testServer) deviceClient() *oauth2.Config {
	return &oauth2.Config{
		ClientID: demoPublicClient,
		Scopes:   []string{"read"},
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: ts.base + deviceAuthorizationPath,
			TokenURL:      ts.base + tokenPath,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
}

// pollOnce makes one device token request and returns the error code, or
// "" on success.
func (ts *testServer) pollOnce(t *testing.T, deviceCode string) string {
	t.Helper()
	resp, body := post(t, http.DefaultClient, ts.base+tokenPath, url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {demoPublicClient},
		"device_code": {deviceCode},
	})
	if resp.StatusCode == http.StatusOK {
		return ""
	}
	for _, code := range []string{"authorization_pending", "slow_down", "access_denied", "expired_token", "invalid_grant"} {
		if strings.Contains(body, `"error":"`+code+`"`) {
			return code
		}
	}
	t.Fatalf("unexpected answer %d: %s", resp.StatusCode, body)
	return ""
}

// approveDevice walks the verification page: login, enter code, confirm.
func (ts *testServer) approveDevice(t *testing.T, c *http.Client, verificationURIComplete, decision string) string {
	t.Helper()
	resp, _ := get(t, c, verificationURIComplete)
	require.Equal(t, http.StatusFound, resp.StatusCode, "login first")
	ts.login(t, c)
	resp, body := get(t, c, verificationURIComplete)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	m := regexpValue.FindStringSubmatch(body)
	require.NotNil(t, m, "the code is prefilled")
	resp, body = post(t, c, ts.base+devicePath, url.Values{"csrf_token": {csrfToken(t, body)}, "user_code": {m[1]}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, demoPublicClient)
	assert.Contains(t, body, "<code>read</code>")
	resp, body = post(t, c, ts.base+devicePath, url.Values{"csrf_token": {csrfToken(t, body)}, "user_code": {m[1]}, "decision": {decision}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	return body
}

// A CLI-style client signs in with the device flow: x/oauth2 asks for the
// codes and polls while the user approves on the verification page.
func TestDeviceFlow(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{deviceInterval: time.Second})
	ctx := context.Background()
	conf := ts.deviceClient()
	da, err := conf.DeviceAuth(ctx)
	require.NoError(t, err)
	assert.Equal(t, ts.base+devicePath, da.VerificationURI)
	require.NotEmpty(t, da.VerificationURIComplete)

	// RFC 8628 §3.5: pending, then slow_down when polling too fast.
	assert.Equal(t, "authorization_pending", ts.pollOnce(t, da.DeviceCode))
	assert.Equal(t, "slow_down", ts.pollOnce(t, da.DeviceCode))

	body := ts.approveDevice(t, browser(t), da.VerificationURIComplete, "approve")
	assert.Contains(t, body, "Approved")

	// slow_down raised the interval by 5 s; x/oauth2 starts at the
	// announced interval and adds 5 s itself on slow_down.
	tok, err := conf.DeviceAccessToken(ctx, da)
	require.NoError(t, err)
	assert.NotEmpty(t, tok.RefreshToken)
	status, me := apiGet(t, conf.Client(ctx, tok), ts.base+mePath)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, demoUsername, me["sub"])
	assert.Equal(t, "read", me["scope"])
	assert.Equal(t, "invalid_grant", ts.pollOnce(t, da.DeviceCode), "a device code is redeemed once")
}

func TestDeviceFlowDeny(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{deviceInterval: time.Second})
	da, err := ts.deviceClient().DeviceAuth(context.Background())
	require.NoError(t, err)
	body := ts.approveDevice(t, browser(t), da.VerificationURIComplete, "deny")
	assert.Contains(t, body, "Denied")
	assert.Equal(t, "access_denied", ts.pollOnce(t, da.DeviceCode))
}

func TestDevicePage(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	c := browser(t)
	ts.login(t, c)
	_, page := get(t, c, ts.base+devicePath)
	csrf := csrfToken(t, page)

	var testCases = []struct {
		name       string
		whenForm   url.Values
		expectCode int
		expectText string
	}{
		{name: "nok, unknown code", whenForm: url.Values{"csrf_token": {csrf}, "user_code": {"BCDF-GHJK"}},
			expectCode: http.StatusBadRequest, expectText: "invalid, expired"},
		{name: "nok, garbage code is not echoed as markup", whenForm: url.Values{"csrf_token": {csrf}, "user_code": {"<b>x</b>"}},
			expectCode: http.StatusBadRequest, expectText: "&lt;b&gt;"},
		{name: "nok, no CSRF token", whenForm: url.Values{"user_code": {"BCDF-GHJK"}},
			expectCode: http.StatusForbidden, expectText: "Form expired"},
		// Malformed codes are wrong codes: a page, never a 5xx.
		{name: "nok, empty code", whenForm: url.Values{"csrf_token": {csrf}, "user_code": {""}},
			expectCode: http.StatusBadRequest, expectText: "invalid, expired"},
		{name: "nok, invalid UTF-8 code", whenForm: url.Values{"csrf_token": {csrf}, "user_code": {"\xff\xfe"}},
			expectCode: http.StatusBadRequest, expectText: "invalid, expired"},
		{name: "nok, long code", whenForm: url.Values{"csrf_token": {csrf}, "user_code": {strings.Repeat("B", 4000)}},
			expectCode: http.StatusBadRequest, expectText: "invalid, expired"},
		{name: "nok, approve an unknown code", whenForm: url.Values{"csrf_token": {csrf}, "user_code": {"BCDF-GHJK"}, "decision": {"approve"}},
			expectCode: http.StatusBadRequest, expectText: "invalid, expired"},
		{name: "nok, deny an unknown code", whenForm: url.Values{"csrf_token": {csrf}, "user_code": {"BCDF-GHJK"}, "decision": {"deny"}},
			expectCode: http.StatusBadRequest, expectText: "invalid, expired"},
		{name: "nok, unknown decision", whenForm: url.Values{"csrf_token": {csrf}, "user_code": {"BCDF-GHJK"}, "decision": {"maybe"}},
			expectCode: http.StatusBadRequest, expectText: "approve or deny"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, c, ts.base+devicePath, tc.whenForm)
			assert.Equal(t, tc.expectCode, resp.StatusCode)
			assert.Contains(t, body, tc.expectText)
			assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
		})
	}
}

// Guessing user codes is bounded per address (RFC 8628 §5.1).
func TestDevicePageGuessing(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	c := browser(t)
	ts.login(t, c)
	_, page := get(t, c, ts.base+devicePath)
	form := url.Values{"csrf_token": {csrfToken(t, page)}, "user_code": {"BCDF-GHJK"}}
	var last int
	for i := 0; i < 20 && last != http.StatusTooManyRequests; i++ {
		resp, _ := post(t, c, ts.base+devicePath, form)
		last = resp.StatusCode
	}
	assert.Equal(t, http.StatusTooManyRequests, last)
}
