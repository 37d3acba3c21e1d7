package main

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signedIn returns a browser signed in as username and the device page's
// CSRF token.
func (ts *testServer) signedIn(t *testing.T, username, password string) (*http.Client, string) {
	t.Helper()
	c := browser(t)
	_, page := get(t, c, ts.base+loginPath)
	resp, body := post(t, c, ts.base+loginPath, url.Values{
		"csrf_token": {csrfToken(t, page)}, "username": {username}, "password": {password},
	})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	_, page = get(t, c, ts.base+devicePath)
	return c, csrfToken(t, page)
}

// enterCode posts a user code to the device page as the client at address
// (behind the trusted proxy 127.0.0.1).
func (ts *testServer) enterCode(t *testing.T, c *http.Client, csrf, address, code string) *http.Response {
	t.Helper()
	form := url.Values{"csrf_token": {csrf}, "user_code": {code}}
	req, err := http.NewRequest(http.MethodPost, ts.base+devicePath, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", address)
	resp, err := c.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp
}

// user code guesses count per account as well as per
// address, so one account cannot guess on from ever new addresses; another
// account at the same address is not stopped.
func TestDevicePageGuessingPerAccount(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{Data: usersConfig(2), TrustedProxies: []string{"127.0.0.1"}})
	guesser, guesserCSRF := ts.signedIn(t, "user000", "pw-user000")
	for i := range 10 {
		resp := ts.enterCode(t, guesser, guesserCSRF, "203.0.113."+strconv.Itoa(i+1), "BCDF-GHJK")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "guess %d", i+1)
	}
	resp := ts.enterCode(t, guesser, guesserCSRF, "198.51.100.1", "BCDF-GHJK")
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the account's budget is spent, whatever the address")
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After in seconds")
	assert.Positive(t, secs)

	other, otherCSRF := ts.signedIn(t, "user001", "pw-user001")
	resp = ts.enterCode(t, other, otherCSRF, "198.51.100.1", "BCDF-GHJK")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "another account at that address may still enter codes")
}
