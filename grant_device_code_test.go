package oauth2server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
)

// every answer of RFC 8628 §3.5, and the bad requests of §3.4.
func TestDeviceTokenErrors(t *testing.T) {
	tests := []struct {
		name        string
		given       func(t *testing.T, e *testEnv, userCode string)
		whenClient  string
		whenCode    string // "" uses the issued device code; "-" sends none
		expectError string
	}{
		{name: "nok, pending", given: func(*testing.T, *testEnv, string) {}, expectError: "authorization_pending"},
		{name: "nok, denied", given: func(t *testing.T, e *testEnv, uc string) {
			require.NoError(t, e.srv.DenyDevice(context.Background(), uc))
		}, expectError: "access_denied"},
		{name: "nok, expired", given: func(t *testing.T, e *testEnv, _ string) {
			e.clock.Advance(10 * time.Minute)
		}, expectError: "expired_token"},
		{name: "nok, approved but expired", given: func(t *testing.T, e *testEnv, uc string) {
			require.NoError(t, e.srv.ApproveDevice(context.Background(), uc, &oauth2server.User{ID: "u1"}, nil))
			e.clock.Advance(10*time.Minute + time.Second)
		}, expectError: "expired_token"},
		{name: "nok, unknown device code", given: func(*testing.T, *testEnv, string) {}, whenCode: "not-a-device-code", expectError: "invalid_grant"},
		{name: "nok, another client's device code", given: func(t *testing.T, e *testEnv, uc string) {
			require.NoError(t, e.srv.ApproveDevice(context.Background(), uc, &oauth2server.User{ID: "u1"}, nil))
		}, whenClient: "other-tv", expectError: "invalid_grant"},
		{name: "nok, no device_code", given: func(*testing.T, *testEnv, string) {}, whenCode: "-", expectError: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			require.NoError(t, e.model.AddClient(context.Background(), &oauth2server.Client{ID: "other-tv", Grants: []string{oauth2server.GrantDeviceCode}, Scopes: []string{"read"}}))
			dc, uc := e.startDevice("read")
			tc.given(t, e, uc)
			form := url.Values{"grant_type": {oauth2server.GrantDeviceCode}, "client_id": {tvID}, "device_code": {dc}}
			if tc.whenClient != "" {
				form.Set("client_id", tc.whenClient)
			}
			switch tc.whenCode {
			case "":
			case "-":
				form.Del("device_code")
			default:
				form.Set("device_code", tc.whenCode)
			}
			r := e.serve(tokenReq{body: form.Encode()})
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Equal(t, tc.expectError, r.errorCode(), r.body)
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
			assert.NotContains(t, r.body, "access_token")
		})
	}
}

func TestDeviceTokenErrorsAreSentinels(t *testing.T) {
	e := newTestEnv(t)
	dc, _ := e.startDevice("")
	_, err := e.srv.Token(tokenReq{body: url.Values{
		"grant_type": {oauth2server.GrantDeviceCode}, "client_id": {tvID}, "device_code": {dc}}.Encode()}.build())
	assert.ErrorIs(t, err, oautherrors.ErrAuthorizationPending)
}

// RFC 8628 §3.5: polling sooner than the interval is slow_down, and the
// interval grows by 5 seconds for this and all later polls.
func TestDeviceTokenSlowDown(t *testing.T) {
	e := newTestEnv(t)
	dc, uc := e.startDevice("")
	interval := func() time.Duration {
		d, err := e.model.GetDeviceCodeByUserCode(context.Background(), uc)
		require.NoError(t, err)
		return d.Interval
	}

	assert.Equal(t, "authorization_pending", e.poll(tvID, dc).errorCode(), "first poll")
	e.clock.Advance(5 * time.Second)
	assert.Equal(t, "authorization_pending", e.poll(tvID, dc).errorCode(), "after the interval")

	e.clock.Advance(1 * time.Second)
	r := e.poll(tvID, dc)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "slow_down", r.errorCode())
	assert.Equal(t, 10*time.Second, interval(), "raised by 5 s")

	// The old interval is now too fast as well.
	e.clock.Advance(5 * time.Second)
	assert.Equal(t, "slow_down", e.poll(tvID, dc).errorCode())
	assert.Equal(t, 15*time.Second, interval())

	e.clock.Advance(15 * time.Second)
	assert.Equal(t, "authorization_pending", e.poll(tvID, dc).errorCode(), "honouring the raised interval")
	assert.Equal(t, 15*time.Second, interval())

	// A little jitter below the interval is forgiven.
	e.clock.Advance(14 * time.Second)
	assert.Equal(t, "authorization_pending", e.poll(tvID, dc).errorCode())
}

// R-49 (single use, here of the device code) and R-62: the approved code
// yields tokens of the approving user once.
func TestDeviceTokenIssuedOnce(t *testing.T) {
	e := newTestEnv(t)
	dc, uc := e.startDevice("read write")
	require.NoError(t, e.srv.ApproveDevice(context.Background(), uc, &oauth2server.User{ID: "alice"}, []string{"read"}))

	r := e.poll(tvID, dc)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "Bearer", r.body["token_type"])
	assert.Equal(t, "read", r.body["scope"], "the scope the user granted")
	assert.NotEmpty(t, r.body["refresh_token"], "the client has the refresh_token grant")
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))

	tok, err := e.model.GetAccessToken(context.Background(), r.body["access_token"].(string))
	require.NoError(t, err)
	require.NotNil(t, tok)
	assert.Equal(t, "alice", tok.UserID)
	assert.Equal(t, tvID, tok.ClientID)
	stored, err := e.model.GetDeviceCodeByUserCode(context.Background(), uc)
	require.NoError(t, err)
	assert.Equal(t, stored.GrantID, tok.GrantID)
	assert.Equal(t, oauth2server.DeviceCodeRedeemed, stored.Status)

	e.clock.Advance(5 * time.Second)
	r = e.poll(tvID, dc)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalid_grant", r.errorCode())

	// R-49 by analogy: a redeemed device code presented again may have
	// leaked, so the tokens it produced are revoked.
	tok, err = e.model.GetAccessToken(context.Background(), tok.AccessToken)
	require.NoError(t, err)
	assert.True(t, tok.Revoked, "the replay revoked the issued token")
}

func TestDeviceTokenConcurrentRedemption(t *testing.T) {
	e := newTestEnv(t)
	dc, uc := e.startDevice("")
	require.NoError(t, e.srv.ApproveDevice(context.Background(), uc, &oauth2server.User{ID: "alice"}, nil))

	const n = 32
	statuses := make(chan int, n)
	// The requests are built first and released together, so that the
	// redemptions really overlap.
	var wg, start sync.WaitGroup
	start.Add(1)
	for range n {
		wg.Add(1)
		req := tokenReq{body: url.Values{
			"grant_type": {oauth2server.GrantDeviceCode}, "client_id": {tvID}, "device_code": {dc}}.Encode()}.build()
		go func() {
			defer wg.Done()
			start.Wait()
			rec := httptest.NewRecorder()
			e.mux.ServeHTTP(rec, req)
			statuses <- rec.Code
		}()
	}
	start.Done()
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	assert.Equal(t, map[int]int{200: 1, 400: n - 1}, counts)
}

func TestDeviceConfidentialClientMustAuthenticateWhenPolling(t *testing.T) {
	e := newTestEnv(t)
	r := e.deviceAuthorization(url.Values{}, cliID, cliSecret)
	require.Equal(t, http.StatusOK, r.status, r.body)
	dc, uc := r.body["device_code"].(string), r.body["user_code"].(string)
	require.NoError(t, e.srv.ApproveDevice(context.Background(), uc, &oauth2server.User{ID: "bob"}, nil))

	// client_id alone does not identify a confidential client.
	r = e.poll(cliID, dc)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "invalid_client", r.errorCode())

	r = e.serve(tokenReq{body: url.Values{"grant_type": {oauth2server.GrantDeviceCode}, "device_code": {dc}}.Encode(), auth: basic(cliID, cliSecret)})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.NotContains(t, r.body, "refresh_token", "cli lacks the refresh_token grant")
}

// Bad input changes nothing: another client polling with a stolen device
// code gets invalid_grant, and the real device's next poll is not pushed
// into slow_down by it.
func TestDeviceForeignPollChangesNothing(t *testing.T) {
	e := newTestEnv(t)
	require.NoError(t, e.model.AddClient(context.Background(), &oauth2server.Client{ID: "other-tv", Grants: []string{oauth2server.GrantDeviceCode}, Scopes: []string{"read"}}))
	dc, uc := e.startDevice("")
	assert.Equal(t, "authorization_pending", e.poll(tvID, dc).errorCode(), "first poll")
	e.clock.Advance(5 * time.Second)
	assert.Equal(t, "invalid_grant", e.poll("other-tv", dc).errorCode())
	e.clock.Advance(time.Second)
	assert.Equal(t, "authorization_pending", e.poll(tvID, dc).errorCode(), "6 s after its own last poll")
	d, err := e.model.GetDeviceCodeByUserCode(context.Background(), uc)
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, d.Interval, "not raised")
}
