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

func TestNormalizeUserCode(t *testing.T) {
	tests := []struct {
		name   string
		given  string
		expect string
	}{
		{name: "ok, canonical", given: "BCDF-GHJK", expect: "BCDF-GHJK"},
		{name: "ok, lower case", given: "bcdf-ghjk", expect: "BCDF-GHJK"},
		{name: "ok, no dash", given: "bcdfGHJK", expect: "BCDF-GHJK"},
		{name: "ok, spaces and dashes anywhere", given: " b c-d f  g-h-j k ", expect: "BCDF-GHJK"},
		{name: "ok, tab", given: "BCDF\tGHJK", expect: "BCDF-GHJK"},
		{name: "nok, empty", given: ""},
		{name: "nok, too short", given: "BCDF-GHJ"},
		{name: "nok, too long", given: "BCDF-GHJKL"},
		{name: "nok, vowel", given: "BCDF-GHJA"},
		{name: "nok, Y", given: "BCDF-GHJY"},
		{name: "nok, digit", given: "BCDF-GHJ1"},
		{name: "nok, other separator", given: "BCDF_GHJK"},
		{name: "nok, non-ASCII", given: "BCDF-GHJÄ"},
		{name: "nok, huge input", given: strings.Repeat("-", 100) + "BCDFGHJK"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := oauth2server.NormalizeUserCode(tc.given)
			assert.Equal(t, tc.expect != "", ok)
			assert.Equal(t, tc.expect, got)
		})
	}
}

func TestUserCodeAlphabetAndFormat(t *testing.T) {
	// 200 authorizations from one test address: lift its cap.
	e := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.Device.MaxPendingPerAddress = -1 }))
	seen := map[string]bool{}
	letters := map[rune]int{}
	for range 200 {
		_, uc := e.startDevice("")
		require.Regexp(t, userCodeRE, uc)
		norm, ok := oauth2server.NormalizeUserCode(strings.ToLower(uc))
		require.True(t, ok)
		assert.Equal(t, uc, norm, "issued codes are canonical")
		assert.False(t, seen[uc], "user codes are unique")
		seen[uc] = true
		for _, r := range strings.ReplaceAll(uc, "-", "") {
			letters[r]++
		}
	}
	// 1600 letters over 20: every letter shows up (a missing one would
	// mean a broken alphabet; probability by chance ~ 20 * 0.95^1600).
	assert.Len(t, letters, len(oauth2server.UserCodeAlphabet))
}

func TestNewDeviceOptions(t *testing.T) {
	m := memorymodel.New()
	tests := []struct {
		name          string
		givenModel    oauth2server.Model
		givenOpts     oauth2server.Options
		expectErr     string
		expectEnabled bool
	}{
		{name: "ok, enabled by default with model and URI", givenOpts: oauth2server.Options{Device: oauth2server.DeviceOptions{VerificationURI: verificationURI}}, expectEnabled: true},
		{name: "ok, loopback http URI", givenOpts: oauth2server.Options{Device: oauth2server.DeviceOptions{VerificationURI: "http://127.0.0.1:8080/device"}}, expectEnabled: true},
		{name: "ok, disabled by default without URI", givenOpts: oauth2server.Options{}},
		{name: "ok, listed explicitly", givenOpts: oauth2server.Options{Device: oauth2server.DeviceOptions{VerificationURI: verificationURI},
			Grants: []string{oauth2server.GrantDeviceCode}}, expectEnabled: true},
		{name: "ok, not listed", givenOpts: oauth2server.Options{Device: oauth2server.DeviceOptions{VerificationURI: verificationURI},
			Grants: []string{oauth2server.GrantClientCredentials}}},
		{name: "ok, model without the capability", givenModel: verifyingModel{minimalModel{m}}, givenOpts: oauth2server.Options{Device: oauth2server.DeviceOptions{VerificationURI: verificationURI}}},
		{name: "nok, listed without URI", givenOpts: oauth2server.Options{Grants: []string{oauth2server.GrantDeviceCode}},
			expectErr: "needs Options.Device.VerificationURI"},
		{name: "nok, listed without the capability", givenModel: verifyingModel{minimalModel{m}},
			givenOpts: oauth2server.Options{Device: oauth2server.DeviceOptions{VerificationURI: verificationURI}, Grants: []string{oauth2server.GrantDeviceCode}},
			expectErr: "needs DeviceCodeModel"},
		{name: "nok, http URI", givenOpts: oauth2server.Options{Device: oauth2server.DeviceOptions{VerificationURI: "http://as.example.com/device"}}, expectErr: "must use https"},
		{name: "nok, relative URI", givenOpts: oauth2server.Options{Device: oauth2server.DeviceOptions{VerificationURI: "/device"}}, expectErr: "absolute URL"},
		{name: "nok, fragment", givenOpts: oauth2server.Options{Device: oauth2server.DeviceOptions{VerificationURI: verificationURI + "#x"}}, expectErr: "without fragment"},
		{name: "nok, negative lifetime", givenOpts: oauth2server.Options{Device: oauth2server.DeviceOptions{CodeLifetime: -time.Second}}, expectErr: "must not be negative"},
		{name: "nok, negative window", givenOpts: oauth2server.Options{Device: oauth2server.DeviceOptions{UserCodeFailureWindow: -time.Second}}, expectErr: "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			model := tc.givenModel
			if model == nil {
				model = m
			}
			srv, err := oauth2server.New(model, tc.givenOpts)
			if tc.expectErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.expectErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.expectEnabled, srv.DeviceAuthorizationEnabled())
			assert.Equal(t, tc.expectEnabled, srv.GrantEnabled(oauth2server.GrantDeviceCode))
			if tc.expectEnabled {
				assert.Contains(t, srv.GrantTypes(), oauth2server.GrantDeviceCode)
			}
		})
	}
}

func TestDeviceDisabled(t *testing.T) {
	e := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.Device.VerificationURI = "" }))
	require.False(t, e.srv.DeviceAuthorizationEnabled())
	r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
	assert.Equal(t, "unsupported_grant_type", r.errorCode())
	_, err := e.srv.LookupUserCode(context.Background(), "BCDF-GHJK")
	assert.Error(t, err)
	assert.NotErrorIs(t, err, oauth2server.ErrInvalidUserCode)
}

func TestDeviceIntervalRoundedToSeconds(t *testing.T) {
	e := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.Device.Interval = 300 * time.Millisecond }))
	assert.Equal(t, time.Second, e.srv.Options().Device.Interval)
}

// faultyDevices is the memory model with failures injected into its
// device methods.
type faultyDevices struct {
	*memorymodel.Model
	takenSaves int   // SaveDeviceCode answers ErrUserCodeTaken this many times
	fail       error // returned by the method named in failing
	failing    string
}

func (f *faultyDevices) SaveDeviceCode(ctx context.Context, d *oauth2server.DeviceCode) error {
	if f.takenSaves > 0 {
		f.takenSaves--
		return oauth2server.ErrUserCodeTaken
	}
	if f.failing == "SaveDeviceCode" {
		return f.fail
	}
	return f.Model.SaveDeviceCode(ctx, d)
}

func (f *faultyDevices) GetDeviceCodeByUserCode(ctx context.Context, uc string) (*oauth2server.DeviceCode, error) {
	if f.failing == "GetDeviceCodeByUserCode" {
		return nil, f.fail
	}
	return f.Model.GetDeviceCodeByUserCode(ctx, uc)
}

func (f *faultyDevices) SetDeviceDecision(ctx context.Context, uc string, d *oauth2server.DeviceDecision) (bool, error) {
	if f.failing == "SetDeviceDecision" {
		return false, f.fail
	}
	return f.Model.SetDeviceDecision(ctx, uc, d)
}

func (f *faultyDevices) PollDeviceCode(ctx context.Context, dc, clientID string, now time.Time) (*oauth2server.DeviceCode, error) {
	if f.failing == "PollDeviceCode" {
		return nil, f.fail
	}
	return f.Model.PollDeviceCode(ctx, dc, clientID, now)
}

func (f *faultyDevices) RaiseDeviceInterval(ctx context.Context, dc string, d time.Duration) error {
	if f.failing == "RaiseDeviceInterval" {
		return f.fail
	}
	return f.Model.RaiseDeviceInterval(ctx, dc, d)
}

func (f *faultyDevices) ConsumeDeviceCode(ctx context.Context, dc string) (bool, error) {
	if f.failing == "ConsumeDeviceCode" {
		return false, f.fail
	}
	return f.Model.ConsumeDeviceCode(ctx, dc)
}

// newFaultyEnv is a testEnv whose model is the memorymodel inside f.
func newFaultyEnv(t *testing.T, options ...envOption) (*faultyDevices, *testEnv) {
	t.Helper()
	var f *faultyDevices
	e := newTestEnv(t, append(options, withModel(func(m *memorymodel.Model) oauth2server.Model {
		f = &faultyDevices{Model: m, fail: errStore}
		return f
	}))...)
	return f, e
}

func TestDeviceUserCodeCollisionRetry(t *testing.T) {
	f, e := newFaultyEnv(t)
	f.takenSaves = 2
	r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
	assert.Equal(t, http.StatusOK, r.status, "third try succeeds")

	f.takenSaves = 3
	r = e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "server_error", r.errorCode())
}

// A storage fault is server_error (503) with the cause only in logs, at
// every step of the device flow: device.go (save), device_verify.go
// (lookup, decision) and grant_device_code.go (poll, slow_down, redeem).
func TestDeviceStorageFaults(t *testing.T) {
	ctx := context.Background()
	alice := &oauth2server.User{ID: "alice"}
	tests := []struct {
		name   string
		method string
		when   func(t *testing.T, e *testEnv, dc, uc string) error
	}{
		{"nok, save", "SaveDeviceCode", func(t *testing.T, e *testEnv, _, _ string) error {
			r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
			assert.Equal(t, http.StatusServiceUnavailable, r.status)
			assert.Equal(t, "server_error", r.errorCode())
			assert.NotContains(t, str(r.body["error_description"]), errStore.Error(), "the cause stays in the logs")
			return oautherrors.ErrServerError
		}},
		{"nok, lookup", "GetDeviceCodeByUserCode", func(t *testing.T, e *testEnv, _, uc string) error {
			_, err := e.srv.LookupUserCode(ctx, uc)
			return err
		}},
		{"nok, decision", "SetDeviceDecision", func(t *testing.T, e *testEnv, _, uc string) error {
			return e.srv.ApproveDevice(ctx, uc, alice, nil)
		}},
		{"nok, poll", "PollDeviceCode", func(t *testing.T, e *testEnv, dc, _ string) error {
			return tokenErr(e, dc)
		}},
		{"nok, raise interval", "RaiseDeviceInterval", func(t *testing.T, e *testEnv, dc, _ string) error {
			require.ErrorIs(t, tokenErr(e, dc), oautherrors.ErrAuthorizationPending)
			return tokenErr(e, dc)
		}},
		{"nok, consume", "ConsumeDeviceCode", func(t *testing.T, e *testEnv, dc, uc string) error {
			require.NoError(t, e.srv.ApproveDevice(ctx, uc, alice, nil))
			return tokenErr(e, dc)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, e := newFaultyEnv(t)
			r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
			require.Equal(t, http.StatusOK, r.status)
			f.failing = tc.method
			err := tc.when(t, e, r.body["device_code"].(string), r.body["user_code"].(string))
			assert.ErrorIs(t, err, oautherrors.ErrServerError)
			assert.True(t, oautherrors.IsServerError(err))
		})
	}
}

// tokenErr polls for the device code as tvID and returns the Server's error.
func tokenErr(e *testEnv, dc string) error {
	_, err := e.srv.Token(tokenReq{body: url.Values{"grant_type": {oauth2server.GrantDeviceCode},
		"client_id": {tvID}, "device_code": {dc}}.Encode()}.build())
	return err
}

// a device authorization that stored nothing gives its charges
// back: a store outage does not use up an address's budget.
func TestDeviceFailedSaveIsRefunded(t *testing.T) {
	f, e := newFaultyEnv(t, withOptions(func(o *oauth2server.Options) { o.Device.MaxPendingPerAddress = 2 }))
	f.failing = "SaveDeviceCode"
	for range 5 {
		r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
		require.Equal(t, http.StatusServiceUnavailable, r.status)
	}
	f.failing = ""
	for range 2 {
		r := e.deviceAuthorization(url.Values{"client_id": {tvID}}, "", "")
		assert.Equal(t, http.StatusOK, r.status, "the outage charged nothing")
	}
}
