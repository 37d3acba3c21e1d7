package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// fakeClock is the Server's injected clock (Options.Now); the polling
// client "sleeps" by moving it, so the flow runs without real waiting.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type deviceServer struct {
	srv        *oauth2server.Server
	model      *memorymodel.Model
	url        string
	tokenPolls atomic.Int32
}

// newDeviceServer serves the token and device authorization endpoints on
// a loopback httptest server with Echo, like an application would.
func newDeviceServer(t *testing.T, opts oauth2server.Options) *deviceServer {
	t.Helper()
	m := memorymodel.New()
	require.NoError(t, m.AddClient(context.Background(), &oauth2server.Client{ID: "tv",
		Grants: []string{oauth2server.GrantDeviceCode, oauth2server.GrantRefreshToken}, Scopes: []string{"read", "write"}}))
	opts.Device.VerificationURI = "http://127.0.0.1/device"
	srv, err := oauth2server.New(m, opts)
	require.NoError(t, err)
	ds := &deviceServer{srv: srv, model: m}
	e := echo.New()
	e.POST("/oauth/token", handlers.Token(srv), func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// Count a poll once it has been answered, so that whoever
			// waits for "n polls" never acts while poll n is still being
			// decided (the approval could otherwise land inside it).
			err := next(c)
			ds.tokenPolls.Add(1)
			return err
		}
	})
	e.POST("/oauth/device_authorization", handlers.DeviceAuthorization(srv))
	hs := httptest.NewServer(e)
	t.Cleanup(hs.Close)
	ds.url = hs.URL
	return ds
}

func postForm(t *testing.T, u string, form url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, resp.Header, body
}

func TestDeviceAuthorizationHandler(t *testing.T) {
	ds := newDeviceServer(t, oauth2server.Options{})
	status, h, body := postForm(t, ds.url+"/oauth/device_authorization", url.Values{"client_id": {"tv"}, "scope": {"read"}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	assert.Equal(t, "no-cache", h.Get("Pragma"))
	assert.True(t, strings.HasPrefix(h.Get("Content-Type"), "application/json"))
	for _, k := range []string{"device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in", "interval"} {
		assert.Contains(t, body, k)
	}

	status, h, body = postForm(t, ds.url+"/oauth/device_authorization", url.Values{"client_id": {"nobody"}})
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "invalid_client", body["error"])
	assert.Equal(t, "no-store", h.Get("Cache-Control"))

	resp, err := http.Get(ds.url + "/oauth/device_authorization")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// pollingClient is a CLI-style device client: it shows the user code,
// then polls the token endpoint honouring interval and slow_down (RFC 8628
// §3.5). impatientPolls makes its first polls come too soon, as a buggy
// client's would, to provoke slow_down.
type pollingClient struct {
	base           string
	sleep          func(time.Duration)
	impatientPolls int
	seen           []string
}

func (c *pollingClient) run(t *testing.T, showUserCode func(string)) map[string]any {
	status, _, da := postForm(t, c.base+"/oauth/device_authorization", url.Values{"client_id": {"tv"}, "scope": {"read write"}})
	require.Equal(t, http.StatusOK, status, da)
	showUserCode(da["user_code"].(string))
	interval := time.Duration(da["interval"].(float64)) * time.Second
	deadline := time.Duration(da["expires_in"].(float64)) * time.Second
	var waited time.Duration
	for waited < deadline {
		status, _, body := postForm(t, c.base+"/oauth/token", url.Values{
			"grant_type":  {oauth2server.GrantDeviceCode},
			"client_id":   {"tv"},
			"device_code": {da["device_code"].(string)},
		})
		if status == http.StatusOK {
			return body
		}
		code, _ := body["error"].(string)
		c.seen = append(c.seen, code)
		switch code {
		case "authorization_pending":
		case "slow_down":
			interval += 5 * time.Second
		default:
			t.Fatalf("device flow failed: %v", body)
		}
		wait := interval
		if c.impatientPolls > 0 {
			c.impatientPolls--
			wait = time.Second
		}
		c.sleep(wait)
		waited += wait
	}
	t.Fatal("device code expired")
	return nil
}

// A full device flow over HTTP: a polling client that runs into slow_down,
// and a user approving on another goroutine.
func TestDeviceFlowWithPollingClient(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	ds := newDeviceServer(t, oauth2server.Options{Now: clock.Now})

	userCodes := make(chan string, 1)
	approved := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The user reads the code off the device and approves on the
		// verification page while the device polls: after its third poll
		// (pending, slow_down, pending).
		uc := <-userCodes
		for ds.tokenPolls.Load() < 3 {
			time.Sleep(time.Millisecond)
		}
		ctx := oauth2server.WithAttemptKey(context.Background(), "192.0.2.10")
		dc, err := ds.srv.LookupUserCode(ctx, strings.ToLower(uc))
		if err != nil {
			approved <- err
			return
		}
		approved <- ds.srv.ApproveDevice(ctx, dc.UserCode, &oauth2server.User{ID: "alice"}, []string{"read"})
	}()

	sleep := func(d time.Duration) {
		clock.Sleep(d)
		if ds.tokenPolls.Load() >= 3 {
			// Keep the flow deterministic: the user is done before the
			// fourth poll, however slowly the goroutines are scheduled.
			select {
			case <-done:
			case <-time.After(10 * time.Second):
			}
		}
	}
	c := &pollingClient{base: ds.url, sleep: sleep, impatientPolls: 1}
	tok := c.run(t, func(uc string) { userCodes <- uc })
	require.NoError(t, <-approved)

	assert.Equal(t, "read", tok["scope"])
	assert.NotEmpty(t, tok["refresh_token"])
	assert.Equal(t, []string{"authorization_pending", "slow_down", "authorization_pending"}, c.seen)
	stored, err := ds.model.GetAccessToken(context.Background(), tok["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, "alice", stored.UserID)

	// The refresh token works for the public device client.
	status, _, body := postForm(t, ds.url+"/oauth/token", url.Values{
		"grant_type": {"refresh_token"}, "client_id": {"tv"}, "refresh_token": {tok["refresh_token"].(string)}})
	assert.Equal(t, http.StatusOK, status, body)
}

// The same flow with golang.org/x/oauth2 as the device client, on the real
// clock with a 1-second interval.
func TestDeviceFlowWithXOAuth2(t *testing.T) {
	ds := newDeviceServer(t, oauth2server.Options{Device: oauth2server.DeviceOptions{Interval: time.Second}})
	cfg := &oauth2.Config{
		ClientID: "tv",
		Scopes:   []string{"read"},
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: ds.url + "/oauth/device_authorization",
			TokenURL:      ds.url + "/oauth/token",
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	da, err := cfg.DeviceAuth(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, da.Interval)
	assert.Contains(t, da.VerificationURIComplete, "user_code=")

	go func() {
		// Approve after the first authorization_pending poll.
		for ds.tokenPolls.Load() < 1 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		_ = ds.srv.ApproveDevice(context.Background(), da.UserCode, &oauth2server.User{ID: "bob"}, nil)
	}()
	tok, err := cfg.DeviceAccessToken(ctx, da)
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.NotEmpty(t, tok.RefreshToken)
	assert.GreaterOrEqual(t, ds.tokenPolls.Load(), int32(2))

	// A denied request ends the x/oauth2 poll with access_denied.
	da, err = cfg.DeviceAuth(ctx)
	require.NoError(t, err)
	require.NoError(t, ds.srv.DenyDevice(context.Background(), da.UserCode))
	_, err = cfg.DeviceAccessToken(ctx, da)
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "access_denied", re.ErrorCode)
}
