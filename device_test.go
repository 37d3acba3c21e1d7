package oauth2server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

const verificationURI = "https://as.example.com/device"

var userCodeRE = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

type deviceEnv struct {
	srv   *oauth2server.Server
	model *memorymodel.Model
	clock *testClock
}

// newDeviceEnv returns a Server with the device grant enabled on a memory
// model with three clients: "tv" (public), "cli" (confidential, secret
// "s3cret") and "web" (no device grant).
func newDeviceEnv(t *testing.T, opts oauth2server.Options) *deviceEnv {
	t.Helper()
	clock := newClock()
	m := memorymodel.New(memorymodel.WithClock(clock.Now))
	for _, c := range []*oauth2server.Client{
		{ID: "tv", Grants: []string{oauth2server.GrantDeviceCode, oauth2server.GrantRefreshToken}, Scopes: []string{"read", "write"}},
		{ID: "cli", SecretHash: oauth2server.HashSecret("s3cret"), Grants: []string{oauth2server.GrantDeviceCode}, Scopes: []string{"read"}},
		{ID: "web", Grants: []string{oauth2server.GrantAuthorizationCode}, Scopes: []string{"read"}, RedirectURIs: []string{"https://web.example.com/cb"}},
	} {
		require.NoError(t, m.AddClient(context.Background(), c))
	}
	if opts.Device.VerificationURI == "" {
		opts.Device.VerificationURI = verificationURI
	}
	opts.Now = clock.Now
	srv, err := oauth2server.New(m, opts)
	require.NoError(t, err)
	require.True(t, srv.DeviceAuthorizationEnabled())
	return &deviceEnv{srv: srv, model: m, clock: clock}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
}

func (r response) errorCode() string {
	s, _ := r.body["error"].(string)
	return s
}

func serve(t *testing.T, h http.Handler, form url.Values, basicUser, basicPass string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(basicUser, basicPass)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return response{status: rec.Code, header: rec.Header(), body: body}
}

// authorize runs a device authorization request of the public client "tv".
func (e *deviceEnv) authorize(t *testing.T, scope string) (deviceCode, userCode string) {
	t.Helper()
	form := url.Values{"client_id": {"tv"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	r := serve(t, nethttp.DeviceAuthorization(e.srv), form, "", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	return r.body["device_code"].(string), r.body["user_code"].(string)
}

// poll runs a device access token request of clientID.
func (e *deviceEnv) poll(t *testing.T, clientID, deviceCode string) response {
	t.Helper()
	return serve(t, nethttp.Token(e.srv), url.Values{
		"grant_type":  {oauth2server.GrantDeviceCode},
		"client_id":   {clientID},
		"device_code": {deviceCode},
	}, "", "")
}

// the device code has 256 bits; R-63: the response is not cached.
func TestDeviceAuthorizationResponse(t *testing.T) {
	e := newDeviceEnv(t, oauth2server.Options{})
	r := serve(t, nethttp.DeviceAuthorization(e.srv), url.Values{"client_id": {"tv"}, "scope": {"read"}}, "", "")
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
	assert.Equal(t, "tv", stored.ClientID)
	assert.Equal(t, []string{"read"}, stored.Scope)
	assert.Equal(t, oauth2server.DeviceCodePending, stored.Status)
	assert.Equal(t, e.clock.Now().Add(10*time.Minute), stored.ExpiresAt)
	assert.Equal(t, 5*time.Second, stored.Interval)
	assert.NotEmpty(t, stored.GrantID)
}

func TestDeviceAuthorizationOptions(t *testing.T) {
	e := newDeviceEnv(t, oauth2server.Options{
		Device: oauth2server.DeviceOptions{
			VerificationURI: "https://as.example.com/device?lang=en",
			CodeLifetime:    90 * time.Second,
			Interval:        2 * time.Second,
		},
	})
	r := serve(t, nethttp.DeviceAuthorization(e.srv), url.Values{"client_id": {"tv"}}, "", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "https://as.example.com/device?lang=en&user_code="+r.body["user_code"].(string), r.body["verification_uri_complete"])
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
		givenOpts      oauth2server.Options
		expectStatus   int
		expectError    string
		expectWWWBasic bool
	}{
		{name: "ok, public client", givenBody: "client_id=tv&scope=read", expectStatus: 200},
		{name: "ok, confidential client with Basic", givenBody: "scope=read", givenBasic: [2]string{"cli", "s3cret"}, expectStatus: 200},
		{name: "ok, confidential client with body credentials", givenBody: "client_id=cli&client_secret=s3cret", expectStatus: 200},
		{name: "nok, GET", givenMethod: http.MethodGet, givenBody: "client_id=tv", expectStatus: 405, expectError: "invalid_request"},
		{name: "nok, JSON body", givenType: "application/json", givenBody: `{"client_id":"tv"}`, expectStatus: http.StatusUnsupportedMediaType, expectError: "invalid_request"},
		{name: "nok, repeated parameter", givenBody: "client_id=tv&scope=read&scope=write", expectStatus: 400, expectError: "invalid_request"},
		{name: "nok, no client", givenBody: "scope=read", expectStatus: 401, expectError: "invalid_client"},
		{name: "nok, unknown client", givenBody: "client_id=nobody", expectStatus: 401, expectError: "invalid_client"},
		{name: "nok, confidential client without secret", givenBody: "client_id=cli", expectStatus: 401, expectError: "invalid_client"},
		{name: "nok, wrong secret with Basic", givenBasic: [2]string{"cli", "wrong"}, expectStatus: 401, expectError: "invalid_client", expectWWWBasic: true},
		{name: "nok, two authentication methods", givenBody: "client_secret=s3cret", givenBasic: [2]string{"cli", "s3cret"}, expectStatus: 400, expectError: "invalid_request"},
		{name: "nok, client without the device grant", givenBody: "client_id=web", expectStatus: 400, expectError: "unauthorized_client"},
		{name: "nok, scope beyond the client's", givenBody: "client_id=tv&scope=admin", expectStatus: 400, expectError: "invalid_scope"},
		{name: "nok, malformed scope", givenBody: "client_id=tv&scope=%22x%22", expectStatus: 400, expectError: "invalid_scope"},
		{name: "nok, public client when authentication is required", givenBody: "client_id=tv",
			givenOpts:    oauth2server.Options{RequireClientAuthentication: map[string]bool{oauth2server.GrantDeviceCode: true}},
			expectStatus: 400, expectError: "unauthorized_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newDeviceEnv(t, tc.givenOpts)
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
			nethttp.DeviceAuthorization(e.srv).ServeHTTP(rec, req)
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
	type env = deviceEnv
	tests := []struct {
		name        string
		given       func(t *testing.T, e *env, userCode string)
		whenClient  string
		whenCode    string // "" uses the issued device code; "-" sends none
		expectError string
	}{
		{name: "nok, pending", given: func(*testing.T, *env, string) {}, expectError: "authorization_pending"},
		{name: "nok, denied", given: func(t *testing.T, e *env, uc string) {
			require.NoError(t, e.srv.DenyDevice(context.Background(), uc))
		}, expectError: "access_denied"},
		{name: "nok, expired", given: func(t *testing.T, e *env, _ string) {
			e.clock.Advance(10 * time.Minute)
		}, expectError: "expired_token"},
		{name: "nok, approved but expired", given: func(t *testing.T, e *env, uc string) {
			require.NoError(t, e.srv.ApproveDevice(context.Background(), uc, &oauth2server.User{ID: "u1"}, nil))
			e.clock.Advance(10*time.Minute + time.Second)
		}, expectError: "expired_token"},
		{name: "nok, unknown device code", given: func(*testing.T, *env, string) {}, whenCode: "not-a-device-code", expectError: "invalid_grant"},
		{name: "nok, another client's device code", given: func(t *testing.T, e *env, uc string) {
			require.NoError(t, e.srv.ApproveDevice(context.Background(), uc, &oauth2server.User{ID: "u1"}, nil))
		}, whenClient: "other-tv", expectError: "invalid_grant"},
		{name: "nok, no device_code", given: func(*testing.T, *env, string) {}, whenCode: "-", expectError: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newDeviceEnv(t, oauth2server.Options{})
			require.NoError(t, e.model.AddClient(context.Background(), &oauth2server.Client{ID: "other-tv", Grants: []string{oauth2server.GrantDeviceCode}, Scopes: []string{"read"}}))
			dc, uc := e.authorize(t, "read")
			tc.given(t, e, uc)
			form := url.Values{"grant_type": {oauth2server.GrantDeviceCode}, "client_id": {"tv"}, "device_code": {dc}}
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
			r := serve(t, nethttp.Token(e.srv), form, "", "")
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Equal(t, tc.expectError, r.errorCode(), r.body)
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
			assert.NotContains(t, r.body, "access_token")
		})
	}
}

func TestDeviceTokenErrorsAreSentinels(t *testing.T) {
	e := newDeviceEnv(t, oauth2server.Options{})
	dc, _ := e.authorize(t, "")
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(url.Values{
		"grant_type": {oauth2server.GrantDeviceCode}, "client_id": {"tv"}, "device_code": {dc}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err := e.srv.Token(req)
	assert.ErrorIs(t, err, oautherrors.ErrAuthorizationPending)
}

// RFC 8628 §3.5: polling sooner than the interval is slow_down, and the
// interval grows by 5 seconds for this and all later polls.
func TestDeviceTokenSlowDown(t *testing.T) {
	e := newDeviceEnv(t, oauth2server.Options{})
	dc, uc := e.authorize(t, "")
	interval := func() time.Duration {
		d, err := e.model.GetDeviceCodeByUserCode(context.Background(), uc)
		require.NoError(t, err)
		return d.Interval
	}

	assert.Equal(t, "authorization_pending", e.poll(t, "tv", dc).errorCode(), "first poll")
	e.clock.Advance(5 * time.Second)
	assert.Equal(t, "authorization_pending", e.poll(t, "tv", dc).errorCode(), "after the interval")

	e.clock.Advance(1 * time.Second)
	r := e.poll(t, "tv", dc)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "slow_down", r.errorCode())
	assert.Equal(t, 10*time.Second, interval(), "raised by 5 s")

	// The old interval is now too fast as well.
	e.clock.Advance(5 * time.Second)
	assert.Equal(t, "slow_down", e.poll(t, "tv", dc).errorCode())
	assert.Equal(t, 15*time.Second, interval())

	e.clock.Advance(15 * time.Second)
	assert.Equal(t, "authorization_pending", e.poll(t, "tv", dc).errorCode(), "honouring the raised interval")
	assert.Equal(t, 15*time.Second, interval())

	// A little jitter below the interval is forgiven.
	e.clock.Advance(14 * time.Second)
	assert.Equal(t, "authorization_pending", e.poll(t, "tv", dc).errorCode())
}

// R-49 (single use, here of the device code) and R-62: the approved code
// yields tokens of the approving user once.
func TestDeviceTokenIssuedOnce(t *testing.T) {
	e := newDeviceEnv(t, oauth2server.Options{})
	dc, uc := e.authorize(t, "read write")
	require.NoError(t, e.srv.ApproveDevice(context.Background(), uc, &oauth2server.User{ID: "alice"}, []string{"read"}))

	r := e.poll(t, "tv", dc)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "Bearer", r.body["token_type"])
	assert.Equal(t, "read", r.body["scope"], "the scope the user granted")
	assert.NotEmpty(t, r.body["refresh_token"], "the client has the refresh_token grant")
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))

	tok, err := e.model.GetAccessToken(context.Background(), r.body["access_token"].(string))
	require.NoError(t, err)
	require.NotNil(t, tok)
	assert.Equal(t, "alice", tok.UserID)
	assert.Equal(t, "tv", tok.ClientID)
	stored, err := e.model.GetDeviceCodeByUserCode(context.Background(), uc)
	require.NoError(t, err)
	assert.Equal(t, stored.GrantID, tok.GrantID)
	assert.Equal(t, oauth2server.DeviceCodeRedeemed, stored.Status)

	e.clock.Advance(5 * time.Second)
	r = e.poll(t, "tv", dc)
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalid_grant", r.errorCode())

	// R-49 by analogy: a redeemed device code presented again may have
	// leaked, so the tokens it produced are revoked.
	tok, err = e.model.GetAccessToken(context.Background(), tok.AccessToken)
	require.NoError(t, err)
	assert.True(t, tok.Revoked, "the replay revoked the issued token")
}

func TestDeviceTokenConcurrentRedemption(t *testing.T) {
	e := newDeviceEnv(t, oauth2server.Options{})
	dc, uc := e.authorize(t, "")
	require.NoError(t, e.srv.ApproveDevice(context.Background(), uc, &oauth2server.User{ID: "alice"}, nil))

	const n = 32
	statuses := make(chan int, n)
	// The requests are built first and released together, so that the
	// redemptions really overlap.
	var wg, start sync.WaitGroup
	start.Add(1)
	for range n {
		wg.Add(1)
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(url.Values{
			"grant_type": {oauth2server.GrantDeviceCode}, "client_id": {"tv"}, "device_code": {dc}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		go func() {
			defer wg.Done()
			start.Wait()
			rec := httptest.NewRecorder()
			nethttp.Token(e.srv).ServeHTTP(rec, req)
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
	e := newDeviceEnv(t, oauth2server.Options{})
	r := serve(t, nethttp.DeviceAuthorization(e.srv), url.Values{}, "cli", "s3cret")
	require.Equal(t, http.StatusOK, r.status, r.body)
	dc, uc := r.body["device_code"].(string), r.body["user_code"].(string)
	require.NoError(t, e.srv.ApproveDevice(context.Background(), uc, &oauth2server.User{ID: "bob"}, nil))

	// client_id alone does not identify a confidential client.
	r = e.poll(t, "cli", dc)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "invalid_client", r.errorCode())

	r = serve(t, nethttp.Token(e.srv), url.Values{"grant_type": {oauth2server.GrantDeviceCode}, "device_code": {dc}}, "cli", "s3cret")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.NotContains(t, r.body, "refresh_token", "cli lacks the refresh_token grant")
}

func httptestForm(form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// Bad input changes nothing: another client polling with a stolen device
// code gets invalid_grant, and the real device's next poll is not pushed
// into slow_down by it.
func TestDeviceForeignPollChangesNothing(t *testing.T) {
	e := newDeviceEnv(t, oauth2server.Options{})
	require.NoError(t, e.model.AddClient(context.Background(), &oauth2server.Client{ID: "other-tv", Grants: []string{oauth2server.GrantDeviceCode}, Scopes: []string{"read"}}))
	dc, uc := e.authorize(t, "")
	assert.Equal(t, "authorization_pending", e.poll(t, "tv", dc).errorCode(), "first poll")
	e.clock.Advance(5 * time.Second)
	assert.Equal(t, "invalid_grant", e.poll(t, "other-tv", dc).errorCode())
	e.clock.Advance(time.Second)
	assert.Equal(t, "authorization_pending", e.poll(t, "tv", dc).errorCode(), "6 s after its own last poll")
	d, err := e.model.GetDeviceCodeByUserCode(context.Background(), uc)
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, d.Interval, "not raised")
}
