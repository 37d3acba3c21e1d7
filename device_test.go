package oauth2server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

var userCodeRE = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// the device code has 256 bits; R-63: the response is not cached.
func TestDeviceAuthorizationResponse(t *testing.T) {
	e := newTestEnv(t)
	r := e.deviceAuthorization(url.Values{"client_id": {tvID}, "scope": {"read"}}, "", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	assert.Equal(t, "no-cache", r.header.Get("Pragma"))

	dc := r.body["device_code"].(string)
	assert.Len(t, dc, 43, "32 random bytes, base64url")
	uc := r.body["user_code"].(string)
	assert.Regexp(t, userCodeRE, uc)
	assert.Equal(t, verificationURI, r.body["verification_uri"])
	assert.Equal(t, verificationURI+"?user_code="+uc, r.body["verification_uri_complete"])
	assert.EqualValues(t, 600, r.body["expires_in"])
	assert.EqualValues(t, 5, r.body["interval"])

	stored, err := e.model.GetDeviceCodeByUserCode(context.Background(), uc)
	require.NoError(t, err)
	require.NotNil(t, stored)
	assert.Equal(t, tvID, stored.ClientID)
	assert.Equal(t, []string{"read"}, stored.Scope)
	assert.Equal(t, oauth2server.DeviceCodePending, stored.Status)
	assert.Equal(t, e.clock.Now().Add(10*time.Minute), stored.ExpiresAt)
	assert.Equal(t, 5*time.Second, stored.Interval)
	assert.NotEmpty(t, stored.GrantID)
}

func TestDeviceAuthorizationOptions(t *testing.T) {
	e := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
		o.Device.VerificationURI = verificationURI + "?lang=en"
		o.Device.CodeLifetime = 90 * time.Second
		o.Device.Interval = 2 * time.Second
	}))
	r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, verificationURI+"?lang=en&user_code="+r.body["user_code"].(string), r.body["verification_uri_complete"])
	assert.EqualValues(t, 90, r.body["expires_in"])
	assert.EqualValues(t, 2, r.body["interval"])
	stored, err := e.model.GetDeviceCodeByUserCode(context.Background(), r.body["user_code"].(string))
	require.NoError(t, err)
	assert.Equal(t, []string{"read", "write"}, stored.Scope, "no scope requested: the client's scopes")
}

// the device authorization endpoint
// parses and authenticates exactly like the token endpoint.
func TestDeviceAuthorizationBadRequests(t *testing.T) {
	tests := []struct {
		name           string
		givenMethod    string
		givenType      string
		givenBody      string
		givenBasic     [2]string
		givenOpts      func(*oauth2server.Options)
		expectStatus   int
		expectError    string
		expectWWWBasic bool
	}{
		{name: "ok, public client", givenBody: "client_id=" + tvID + "&scope=read", expectStatus: 200},
		{name: "ok, confidential client with Basic", givenBody: "scope=read", givenBasic: [2]string{cliID, cliSecret}, expectStatus: 200},
		{name: "ok, confidential client with body credentials", givenBody: "client_id=" + cliID + "&client_secret=" + cliSecret, expectStatus: 200},
		{name: "nok, GET", givenMethod: http.MethodGet, givenBody: "client_id=" + tvID, expectStatus: 405, expectError: "invalid_request"},
		{name: "nok, JSON body", givenType: "application/json", givenBody: `{"client_id":"` + tvID + `"}`, expectStatus: http.StatusUnsupportedMediaType, expectError: "invalid_request"},
		{name: "nok, repeated parameter", givenBody: "client_id=" + tvID + "&scope=read&scope=write", expectStatus: 400, expectError: "invalid_request"},
		{name: "nok, no client", givenBody: "scope=read", expectStatus: 401, expectError: "invalid_client"},
		{name: "nok, unknown client", givenBody: "client_id=nobody", expectStatus: 401, expectError: "invalid_client"},
		{name: "nok, confidential client without secret", givenBody: "client_id=" + cliID, expectStatus: 401, expectError: "invalid_client"},
		{name: "nok, wrong secret with Basic", givenBasic: [2]string{cliID, "wrong"}, expectStatus: 401, expectError: "invalid_client", expectWWWBasic: true},
		{name: "nok, two authentication methods", givenBody: "client_secret=" + cliSecret, givenBasic: [2]string{cliID, cliSecret}, expectStatus: 400, expectError: "invalid_request"},
		{name: "nok, client without the device grant", givenBody: "client_id=" + pubID, expectStatus: 400, expectError: "unauthorized_client"},
		{name: "nok, scope beyond the client's", givenBody: "client_id=" + tvID + "&scope=admin", expectStatus: 400, expectError: "invalid_scope"},
		{name: "nok, malformed scope", givenBody: "client_id=" + tvID + "&scope=%22x%22", expectStatus: 400, expectError: "invalid_scope"},
		{name: "nok, public client when authentication is required", givenBody: "client_id=" + tvID,
			givenOpts: func(o *oauth2server.Options) {
				o.RequireClientAuthentication = map[string]bool{oauth2server.GrantDeviceCode: true}
			},
			expectStatus: 400, expectError: "unauthorized_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, withOptions(tc.givenOpts))
			method := tc.givenMethod
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/device_authorization", strings.NewReader(tc.givenBody))
			ct := tc.givenType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			req.Header.Set("Content-Type", ct)
			if tc.givenBasic[0] != "" {
				req.SetBasicAuth(tc.givenBasic[0], tc.givenBasic[1])
			}
			rec := httptest.NewRecorder()
			e.mux.ServeHTTP(rec, req)
			assert.Equal(t, tc.expectStatus, rec.Code, rec.Body.String())
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			var body map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			if tc.expectError == "" {
				assert.NotEmpty(t, body["device_code"])
				return
			}
			assert.Equal(t, tc.expectError, body["error"])
			assert.NotContains(t, body, "device_code")
			if tc.expectWWWBasic {
				assert.True(t, strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic "))
			}
		})
	}
}

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

// device authorizations are capped per source
// address, then per client; above a cap the answer is 429 slow_down with
// Retry-After and nothing is stored; the window ends.
func TestDeviceAuthorizationCaps(t *testing.T) {
	// newCapsEnv caps pending authorizations per address and per client
	// (0 is the default, -1 no cap) and adds a second device client.
	newCapsEnv := func(t *testing.T, perAddress, perClient int) (*testEnv, *countingModel) {
		var m *countingModel
		e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
			m = &countingModel{Model: mm}
			return m
		}), withOptions(func(o *oauth2server.Options) {
			o.Device.MaxPendingPerAddress, o.Device.MaxPendingPerClient = perAddress, perClient
			o.TrustedProxies = []string{"192.0.2.1"} // httptest's RemoteAddr
		}))
		require.NoError(t, e.model.AddClient(context.Background(), &oauth2server.Client{ID: "radio", Grants: []string{oauth2server.GrantDeviceCode}, Scopes: []string{"read"}}))
		return e, m
	}
	start := func(e *testEnv, clientID, from string) *httptest.ResponseRecorder {
		req := tokenReq{path: "/device_authorization", body: "client_id=" + clientID}.build()
		if from != "" {
			req.Header.Set("X-Forwarded-For", from)
		}
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, req)
		return rec
	}
	assertThrottled := func(t *testing.T, rec *httptest.ResponseRecorder, retryAfter string) {
		t.Helper()
		assert.Equal(t, http.StatusTooManyRequests, rec.Code)
		assert.Contains(t, rec.Body.String(), `"error":"slow_down"`)
		assert.Equal(t, retryAfter, rec.Header().Get("Retry-After"))
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	}

	t.Run("per address", func(t *testing.T) {
		e, m := newCapsEnv(t, 3, 0)
		for range 3 {
			require.Equal(t, http.StatusOK, start(e, tvID, "198.51.100.7").Code)
		}
		e.clock.Advance(time.Minute)
		assertThrottled(t, start(e, tvID, "198.51.100.7"), "540")
		assertThrottled(t, start(e, "radio", "198.51.100.7"), "540")
		assert.EqualValues(t, 3, m.saveDevice.Load(), "nothing stored above the cap")
		assert.Equal(t, http.StatusOK, start(e, tvID, "203.0.113.9").Code, "another address is not affected")
		// IPv6 addresses count per /64.
		for i := range 3 {
			require.Equal(t, http.StatusOK, start(e, tvID, fmt.Sprintf("2001:db8:1:2::%d", i+1)).Code)
		}
		assertThrottled(t, start(e, tvID, "2001:db8:1:2:ffff::1"), "600")
		assert.Equal(t, http.StatusOK, start(e, tvID, "2001:db8:1:3::1").Code)

		e.clock.Advance(9 * time.Minute)
		assert.Equal(t, http.StatusOK, start(e, tvID, "198.51.100.7").Code, "the window ended")
	})
	t.Run("per client, after the address", func(t *testing.T) {
		e, m := newCapsEnv(t, 2, 5)
		// One address over its own cap does not drain the client's budget.
		for i := range 10 {
			rec := start(e, tvID, "198.51.100.7")
			require.Equal(t, map[bool]int{true: http.StatusOK, false: http.StatusTooManyRequests}[i < 2], rec.Code)
		}
		for i := range 3 {
			require.Equal(t, http.StatusOK, start(e, tvID, fmt.Sprint("203.0.113.", i+1)).Code)
		}
		assertThrottled(t, start(e, tvID, "203.0.113.50"), "600")
		assert.EqualValues(t, 5, m.saveDevice.Load())
		assert.Equal(t, http.StatusOK, start(e, "radio", "203.0.113.50").Code, "another client is not affected")
	})
	t.Run("disabled", func(t *testing.T) {
		e, m := newCapsEnv(t, -1, -1)
		for range 50 {
			require.Equal(t, http.StatusOK, start(e, tvID, "").Code)
		}
		assert.EqualValues(t, 50, m.saveDevice.Load())
	})
}

// Above a device cap, refusals until the window ends cost no store write.
func TestDeviceCapRefusalsAreCheap(t *testing.T) {
	var m *countingCounters
	e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
		m = &countingCounters{countingModel: countingModel{Model: mm}}
		return m
	}), withOptions(func(o *oauth2server.Options) { o.Device.MaxPendingPerAddress = 2 }))
	for i := range 50 {
		r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
		if i < 2 {
			require.Equal(t, http.StatusOK, r.status)
		} else {
			require.Equal(t, http.StatusTooManyRequests, r.status)
		}
	}
	// Two admitted (two adds each: address, client), one refused (one add).
	assert.EqualValues(t, 5, m.adds.Load(), "the 47 later refusals wrote nothing")
	e.clock.Advance(10 * time.Minute)
	r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
	assert.Equal(t, http.StatusOK, r.status, "the window ended")
}

// countingCounters counts the counter writes of a memorymodel.
type countingCounters struct {
	countingModel
	adds atomic.Int64
}

func (m *countingCounters) AddCounter(ctx context.Context, key string, delta int64, window time.Duration, now time.Time) (oauth2server.Counter, error) {
	m.adds.Add(1)
	return m.Model.AddCounter(ctx, key, delta, window, now)
}

// A refusal by the client's cap gives the address its charge back, and a
// request whose address cannot be told gets no address bucket (all such
// requests would share one).
func TestDeviceCapsAddressRefundAndUnknownAddress(t *testing.T) {
	start := func(e *testEnv, clientID, from string) int {
		req := tokenReq{path: "/device_authorization", body: "client_id=" + clientID}.build()
		if from == "pipe" {
			req.RemoteAddr = "pipe"
		} else {
			req.Header.Set("X-Forwarded-For", from)
		}
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, req)
		return rec.Code
	}
	e := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
		o.TrustedProxies = []string{"192.0.2.1"}
		o.Device.MaxPendingPerAddress, o.Device.MaxPendingPerClient = 2, 1
	}))
	require.NoError(t, e.model.AddClient(context.Background(), &oauth2server.Client{ID: "radio", Grants: []string{oauth2server.GrantDeviceCode}}))
	require.Equal(t, http.StatusOK, start(e, tvID, "198.51.100.7"))
	for range 3 {
		require.Equal(t, http.StatusTooManyRequests, start(e, tvID, "198.51.100.7"), "the client's cap")
	}
	// Had the refused requests kept their address charges, the address
	// (cap 2) would be full now.
	assert.Equal(t, http.StatusOK, start(e, "radio", "198.51.100.7"), "the address still has room")

	e = newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.Device.MaxPendingPerAddress = 2 }))
	for i := range 5 {
		assert.Equal(t, http.StatusOK, start(e, tvID, "pipe"), "request %d without an address", i)
	}
}
