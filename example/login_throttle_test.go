package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// loginAs signs in from the client at address, which the trusted proxy
// 127.0.0.1 names in X-Forwarded-For (none when address is empty), with a
// fresh browser session. It returns the response and its body.
func (ts *testServer) loginAs(t *testing.T, address, username, password string) (*http.Response, string) {
	t.Helper()
	c := browser(t)
	_, page := get(t, c, ts.base+loginPath)
	form := url.Values{"csrf_token": {csrfToken(t, page)}, "username": {username}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, ts.base+loginPath, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if address != "" {
		req.Header.Set("X-Forwarded-For", address)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// usersConfig is a -config with n users user000, user001, … whose
// passwords are pw-user000, …
func usersConfig(n int) *fileConfig {
	fc := &fileConfig{}
	for i := range n {
		u := fmt.Sprintf("user%03d", i)
		fc.Users = append(fc.Users, fileUser{Username: u, Password: "pw-" + u})
	}
	return fc
}

// successful logins are never counted, so a whole office behind
// one address signs in, however many people it has, all at once: the
// server's clock stands still, well within a minute. The passwords are
// hashed with HashSecret here only to keep 200 users fast under the race
// detector; the throttle does not care how they are checked.
func TestLoginThrottleOffice(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	ts := startApp(t, appConfig{Data: usersConfig(200), now: clock.Now,
		hashPassword: func(p string) (string, error) { return oauth2server.HashSecret(p), nil }})
	for i := range 200 {
		u := fmt.Sprintf("user%03d", i)
		resp, body := ts.loginAs(t, "", u, "pw-"+u)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, "login %d: %s", i+1, body)
	}
}

// wrong passwords for one account, from as many
// addresses as the attacker likes, delay that account (429 with
// Retry-After, even for the right password) and no other, whether the
// account exists or not; once the delay has passed, the right password
// works again.
func TestLoginThrottleAccount(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name        string
		whenAccount string
		expectKnown bool
	}{
		{name: "nok, an existing account is delayed", whenAccount: "user000", expectKnown: true},
		{name: "nok, an unknown account is delayed alike", whenAccount: "nobody"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newTestClock()
			ts := startApp(t, appConfig{Data: usersConfig(2), TrustedProxies: []string{"127.0.0.1"}, now: clock.Now})
			addr := func(i int) string { return fmt.Sprintf("203.0.113.%d", i+1) }

			counts := map[int]int{}
			for i := range 30 {
				resp, body := ts.loginAs(t, addr(i), tc.whenAccount, "wrong")
				counts[resp.StatusCode]++
				if resp.StatusCode != http.StatusTooManyRequests {
					continue
				}
				// A page, not a redirect, not cacheable, and the same
				// for every account.
				assert.NotEmpty(t, resp.Header.Get("Retry-After"))
				assert.Empty(t, resp.Header.Get("Location"))
				assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
				assert.Contains(t, body, "Too many failed sign-in attempts. Wait a second, then try again.")
				assert.NotContains(t, body, "Invalid username or password.")
			}
			// Five free failures, a sixth that starts the delay, and
			// every other attempt refused while it lasts.
			assert.Equal(t, map[int]int{http.StatusUnauthorized: 6, http.StatusTooManyRequests: 24}, counts)
			if !tc.expectKnown {
				return
			}

			resp, body := ts.loginAs(t, "198.51.100.1", tc.whenAccount, "pw-"+tc.whenAccount)
			require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "even the right password waits: %s", body)
			secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			require.NoError(t, err, "Retry-After in seconds")
			require.Positive(t, secs)

			// Another account, from the very same addresses, is not slowed.
			for i := range 30 {
				resp, body := ts.loginAs(t, addr(i), "user001", "pw-user001")
				require.Equal(t, http.StatusSeeOther, resp.StatusCode, "from %s: %s", addr(i), body)
			}

			clock.Add(time.Duration(secs) * time.Second)
			resp, body = ts.loginAs(t, "198.51.100.1", tc.whenAccount, "pw-"+tc.whenAccount)
			assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "after the delay: %s", body)
		})
	}
}

// the per-address budget (100 failures) counts the client's
// address: the one a trusted proxy forwards, never one a client claims.
func TestLoginThrottleAddress(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name         string
		givenProxies []string
		whenGuessXFF func(i int) string
		whenLastXFF  string
		expectStatus int
	}{
		{name: "nok, a spoofed X-Forwarded-For buys no new budget",
			whenGuessXFF: func(i int) string { return fmt.Sprintf("203.0.113.%d", i+1) }, whenLastXFF: "198.51.100.9",
			expectStatus: http.StatusTooManyRequests},
		{name: "nok, behind a trusted proxy the guessing client's budget is spent", givenProxies: []string{"127.0.0.1"},
			whenGuessXFF: func(int) string { return "203.0.113.7" }, whenLastXFF: "203.0.113.7",
			expectStatus: http.StatusTooManyRequests},
		{name: "ok, behind a trusted proxy another client has its own budget", givenProxies: []string{"127.0.0.1"},
			whenGuessXFF: func(int) string { return "203.0.113.7" }, whenLastXFF: "198.51.100.9",
			expectStatus: http.StatusSeeOther},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startApp(t, appConfig{TrustedProxies: tc.givenProxies})
			c := browser(t)
			_, page := get(t, c, ts.base+loginPath)
			csrf := csrfToken(t, page)
			for i := range 100 {
				// A new username each time: only the address budget counts.
				form := url.Values{"csrf_token": {csrf}, "username": {fmt.Sprint("guess", i)}, "password": {"x"}}
				req, err := http.NewRequest(http.MethodPost, ts.base+loginPath, strings.NewReader(form.Encode()))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", tc.whenGuessXFF(i))
				resp, err := c.Do(req)
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
				require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "guess %d", i+1)
			}
			resp, body := ts.loginAs(t, tc.whenLastXFF, demoUsername, demoPassword)
			assert.Equal(t, tc.expectStatus, resp.StatusCode, body)
		})
	}
}

// throttled logins are logged below error level, at info
// only the first time for an address, never with the username or the
// password; and nothing is logged as a failure with a nil error.
func TestLoginThrottleLogs(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	clock := newTestClock()
	ts := startApp(t, appConfig{now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	for range 10 {
		resp, _ := ts.loginAs(t, "", "victim@example.com", "secret-guess")
		require.Contains(t, []int{http.StatusUnauthorized, http.StatusTooManyRequests}, resp.StatusCode)
	}
	out := logs.String()
	assert.Equal(t, 1, strings.Count(out, `level=INFO msg="example: login throttled"`), out)
	assert.Equal(t, 3, strings.Count(out, `level=DEBUG msg="example: login throttled"`), out)
	assert.Equal(t, 6, strings.Count(out, `level=DEBUG msg="example: login failed"`), out)
	assert.Contains(t, out, "retry_after=1s")
	assert.NotContains(t, out, "level=ERROR")
	assert.NotContains(t, out, "<nil>")
	assert.NotContains(t, out, "victim@example.com", "usernames are logged as digests")
	assert.NotContains(t, out, "secret-guess")
}

// Echo calls the error handler with nil when a handler has answered and
// passes on no error (c.Error(nil)); that is not a failure to log.
func TestHTTPErrorHandlerNil(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e, a, err := newApp(appConfig{Addr: "127.0.0.1:9096", hashPassword: cheapHash, SigningKeyFile: testSigningKey,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, a.Close(t.Context())) })

	rec := httptest.NewRecorder()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
	c.Response().WriteHeader(http.StatusTooManyRequests)
	e.HTTPErrorHandler(nil, c)
	assert.Empty(t, logs.String())
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)

	// A real fault is still logged as one.
	c = e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	e.HTTPErrorHandler(errors.New("template broke"), c)
	assert.Contains(t, logs.String(), `level=ERROR msg="example: request failed"`)
	assert.Contains(t, logs.String(), "template broke")
}

// a username in the logs is keyed, so a password typed into the
// username field cannot be found by hashing a dictionary.
func TestAccountDigestIsKeyed(t *testing.T) {
	a1 := &app{sessions: &sessionManager{keys: deriveFormKeys(newSessionKey(t))}}
	a2 := &app{sessions: &sessionManager{keys: deriveFormKeys(newSessionKey(t))}}
	plain := sha256.Sum256([]byte("hunter2"))
	assert.Len(t, a1.accountDigest("hunter2"), 12)
	assert.Equal(t, a1.accountDigest("hunter2"), a1.accountDigest("hunter2"), "stable under one key")
	assert.NotEqual(t, a1.accountDigest("hunter2"), a2.accountDigest("hunter2"), "another key, another digest")
	assert.NotEqual(t, hex.EncodeToString(plain[:6]), a1.accountDigest("hunter2"), "not a plain hash")
}
