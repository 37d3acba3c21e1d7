package oauth2server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// scopeOf returns n distinct syntactically valid scope tokens.
func scopeOf(n int) string {
	toks := make([]string, n)
	for i := range toks {
		toks[i] = fmt.Sprintf("s%d", i)
	}
	return strings.Join(toks, " ")
}

// a scope over the caps is invalid_request at once, before
// the client is looked up or its secret hashed; below the caps the scope
// is judged as usual.
func TestScopeCapsAtTokenEndpoint(t *testing.T) {
	tests := []struct {
		name        string
		givenOpts   func(*oauth2server.Options)
		givenScope  string
		expectCode  string
		expectStore bool // the client was looked up
	}{
		{name: "nok, 101 tokens", givenScope: scopeOf(101), expectCode: "invalid_request"},
		{name: "nok, 100k tokens", givenScope: scopeOf(100_000), expectCode: "invalid_request"},
		{name: "nok, over 4 KiB in one token", givenScope: strings.Repeat("a", 4097), expectCode: "invalid_request"},
		{name: "nok, 100 tokens judged by the client's scopes", givenScope: scopeOf(100), expectCode: "invalid_scope", expectStore: true},
		{name: "nok, duplicates count", givenScope: strings.TrimSpace(strings.Repeat("read ", 101)), expectCode: "invalid_request"},
		{name: "ok, 100 duplicates", givenScope: strings.TrimSpace(strings.Repeat("read ", 100)), expectStore: true},
		{name: "ok, doubled spaces do not count as tokens", givenScope: "read" + strings.Repeat(" ", 200) + "write", expectStore: true},
		{name: "nok, a lower cap", givenOpts: func(o *oauth2server.Options) { o.MaxScopeTokens = 1 }, givenScope: "read write", expectCode: "invalid_request"},
		{name: "ok, a higher cap", givenOpts: func(o *oauth2server.Options) { o.MaxScopeTokens, o.MaxScopeBytes = 200, 1<<20 }, givenScope: scopeOf(150),
			expectCode: "invalid_scope", expectStore: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m *countingModel
			e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
				m = &countingModel{Model: mm}
				return m
			}), withOptions(tt.givenOpts))
			body := url.Values{"grant_type": {"client_credentials"}, "scope": {tt.givenScope}}.Encode()
			if len(body) > 64<<10 {
				// Over the body cap the answer is 413; the scope cap is
				// what bounds a scope inside an acceptable body.
				body = body[:64<<10]
				tt.givenScope = ""
			}
			r := e.serve(tokenReq{body: body, auth: basic(confID, confSecret)})
			if tt.expectCode == "" {
				assert.Equal(t, http.StatusOK, r.status, r.raw)
			} else {
				assert.Equal(t, http.StatusBadRequest, r.status, r.raw)
				assert.Contains(t, r.raw, `"error":"`+tt.expectCode+`"`)
			}
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
			assert.Equal(t, tt.expectStore, m.getClient.Load() > 0, "client looked up")
		})
	}
}

// R-108 at the authorization endpoint, which runs before any login: the
// error is redirected like any invalid request of a known client; a query
// over the size cap is shown, not redirected, and nothing is looked up.
func TestScopeCapsAtAuthorizationEndpoint(t *testing.T) {
	var m *countingModel
	e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
		m = &countingModel{Model: mm}
		return m
	}))
	q := url.Values{"response_type": {"code"}, "client_id": {confID}, "redirect_uri": {testRedirect}, "state": {"st"}}

	q.Set("scope", scopeOf(101))
	_, err := e.srv.ValidateAuthorizeRequest(httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil))
	var ae *oauth2server.AuthorizeError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "invalid_request", oautherrors.From(err).Code)
	assert.False(t, ae.ShowToUser(), "a known client with a valid redirect URI gets the error redirected")

	q.Set("scope", scopeOf(100_000))
	m.getClient.Store(0)
	_, err = e.srv.ValidateAuthorizeRequest(httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil))
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "invalid_request", oautherrors.From(err).Code)
	assert.True(t, ae.ShowToUser(), "an oversized query is shown, never redirected")
	assert.Zero(t, m.getClient.Load(), "refused before any lookup")
}

// R-108 at the device authorization endpoint.
func TestScopeCapsAtDeviceAuthorization(t *testing.T) {
	e := newTestEnv(t)
	r := e.deviceAuthorization(url.Values{"client_id": {tvID}, "scope": {scopeOf(101)}}, "", "")
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalid_request", r.errorCode())
}

func TestParseScopeLongListsKeepOrderWithoutDuplicates(t *testing.T) {
	var in []string
	for i := range 1000 {
		in = append(in, fmt.Sprint("s", i%300))
	}
	got, err := oauth2server.ParseScope(strings.Join(in, " "))
	require.NoError(t, err)
	require.Len(t, got, 300)
	for i, s := range got {
		assert.Equal(t, fmt.Sprint("s", i), s)
	}
	assert.True(t, oauth2server.ScopeCovers(got, got[:299]))
	assert.False(t, oauth2server.ScopeCovers(got[1:], got))
}

// parseScopeNaive is the obvious quadratic reference for FuzzParseScope.
func parseScopeNaive(s string) ([]string, bool) {
	var out []string
	for _, tok := range strings.Split(s, " ") {
		if tok == "" {
			continue
		}
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
				return nil, false
			}
		}
		dup := false
		for _, o := range out {
			dup = dup || o == tok
		}
		if !dup {
			out = append(out, tok)
		}
	}
	return out, true
}

// The linear parser agrees with the naive one on every input.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"", "a", "a b a", "  a  b ", "a\"b", scopeOf(20) + " s3 s19", "é", "a\tb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := oauth2server.ParseScope(s)
		want, ok := parseScopeNaive(s)
		if !ok {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})
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

// throttleEnv is a LoginThrottle on an in-process store and a test clock.
func newThrottle(t *testing.T, opts oauth2server.LoginThrottleOptions) (*oauth2server.LoginThrottle, *testClock) {
	clock := newClock()
	th, err := oauth2server.NewLoginThrottle(nil, opts, clock.Now)
	require.NoError(t, err)
	return th, clock
}

// an office behind one address logs in all day; successes never
// count, and neither do its members' occasional typos of other accounts.
func TestLoginThrottleOfficeBehindOneAddress(t *testing.T) {
	th, clock := newThrottle(t, oauth2server.LoginThrottleOptions{})
	ctx := context.Background()
	for i := range 200 {
		user := fmt.Sprint("user", i)
		if i%20 == 0 {
			// A typo first, then the right password.
			wait, err := th.Attempt(ctx, user, "198.51.100.7")
			require.NoError(t, err)
			require.Zero(t, wait)
		}
		wait, err := th.Attempt(ctx, user, "198.51.100.7")
		require.NoError(t, err)
		require.Zero(t, wait, "user %d is not delayed", i)
		require.NoError(t, th.Succeeded(ctx, user, "198.51.100.7"))
		clock.Advance(250 * time.Millisecond)
	}
}

// 30 wrong passwords for one account from 30 addresses slow
// that account down with growing delays, never a lock; the others are not
// slowed, from the same addresses.
func TestLoginThrottleDistributedGuessing(t *testing.T) {
	th, clock := newThrottle(t, oauth2server.LoginThrottleOptions{})
	ctx := context.Background()
	var admitted, refused int
	var waits []time.Duration
	for i := range 30 {
		wait, err := th.Attempt(ctx, "victim", fmt.Sprint("203.0.113.", i))
		require.NoError(t, err)
		if wait > 0 {
			refused++
			waits = append(waits, wait)
		} else {
			admitted++
		}
	}
	assert.Equal(t, 6, admitted, "5 free failures, then one per delay")
	assert.Equal(t, 24, refused)
	assert.Equal(t, time.Second, waits[0])

	other, err := th.Attempt(ctx, "bystander", "203.0.113.1")
	require.NoError(t, err)
	assert.Zero(t, other, "another account from the same addresses")

	// Delays grow: after 1 s the next attempt is admitted and imposes 2 s.
	clock.Advance(time.Second)
	wait, err := th.Attempt(ctx, "victim", "203.0.113.99")
	require.NoError(t, err)
	require.Zero(t, wait)
	wait, err = th.Attempt(ctx, "victim", "203.0.113.99")
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, wait)
	// Never a lock: the owner gets in once the delay has passed.
	clock.Advance(2 * time.Second)
	wait, err = th.Attempt(ctx, "victim", "198.51.100.7")
	require.NoError(t, err)
	require.Zero(t, wait)
	require.NoError(t, th.Succeeded(ctx, "victim", "198.51.100.7"))
}

// Concurrent guesses of one account cannot slip through before the first
// failure is recorded: each is charged before the password is checked.
func TestLoginThrottleConcurrentGuesses(t *testing.T) {
	th, _ := newThrottle(t, oauth2server.LoginThrottleOptions{})
	var admitted atomic.Int64
	var wg, start sync.WaitGroup
	start.Add(1)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			wait, err := th.Attempt(context.Background(), "victim", fmt.Sprint("203.0.113.", i))
			if err == nil && wait == 0 {
				admitted.Add(1)
			}
		}()
	}
	start.Done()
	wg.Wait()
	assert.EqualValues(t, 6, admitted.Load())
}

// an address is refused after its failures, whichever accounts;
// its successes do not count and do not reset it.
func TestLoginThrottleAddressBudget(t *testing.T) {
	th, clock := newThrottle(t, oauth2server.LoginThrottleOptions{MaxAddressFailures: 3, FreeFailures: 100})
	ctx := context.Background()
	for i := range 50 {
		wait, err := th.Attempt(ctx, fmt.Sprint("ok", i), "198.51.100.7")
		require.NoError(t, err)
		require.Zero(t, wait)
		require.NoError(t, th.Succeeded(ctx, fmt.Sprint("ok", i), "198.51.100.7"))
	}
	for i := range 3 {
		wait, err := th.Attempt(ctx, fmt.Sprint("guess", i), "198.51.100.7")
		require.NoError(t, err)
		require.Zero(t, wait)
	}
	wait, err := th.Attempt(ctx, "ok1", "198.51.100.7")
	require.NoError(t, err)
	assert.Equal(t, 15*time.Minute, wait)
	wait, err = th.Attempt(ctx, "ok1", "203.0.113.1")
	require.NoError(t, err)
	assert.Zero(t, wait, "another address")
	clock.Advance(15 * time.Minute)
	wait, err = th.Attempt(ctx, "ok1", "198.51.100.7")
	require.NoError(t, err)
	assert.Zero(t, wait, "the window ended")
}

func TestLoginThrottleOptions(t *testing.T) {
	_, err := oauth2server.NewLoginThrottle(nil, oauth2server.LoginThrottleOptions{BaseDelay: time.Minute, MaxDelay: time.Second}, nil)
	assert.ErrorContains(t, err, "MaxDelay")
	th, err := oauth2server.NewLoginThrottle(nil, oauth2server.LoginThrottleOptions{Disabled: true}, nil)
	require.NoError(t, err)
	for range 50 {
		wait, err := th.Attempt(context.Background(), "a", "b")
		require.NoError(t, err)
		require.Zero(t, wait)
	}
	require.NoError(t, th.Succeeded(context.Background(), "a", "b"))
	_, err = oauth2server.New(memorymodel.New(), oauth2server.Options{MaxScopeTokens: -1})
	assert.ErrorContains(t, err, "MaxScopeTokens")
	_, err = oauth2server.New(memorymodel.New(), oauth2server.Options{LoginThrottle: oauth2server.LoginThrottleOptions{Window: -time.Second}})
	assert.ErrorContains(t, err, "LoginThrottle")
}

// the password grant is throttled per username; a
// delayed request is 429 with Retry-After and never reaches GetUser.
func TestPasswordGrantThrottle(t *testing.T) {
	var m *countingModel
	e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
		m = &countingModel{Model: mm}
		return m
	}), withOptions(func(o *oauth2server.Options) { o.AllowPasswordGrant = true }))
	login := func(user, pass string) answer {
		return e.serve(tokenReq{body: url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}}.Encode(),
			auth: basic(confID, confSecret)})
	}
	for range 5 {
		require.Equal(t, http.StatusOK, login("alice", "alice-password").status, "successes never count")
	}
	for range 6 {
		r := login("alice", "wrong")
		require.Equal(t, http.StatusBadRequest, r.status)
		require.Contains(t, r.raw, "invalid_grant")
	}
	calls := m.getUser.Load()
	r := login("alice", "alice-password")
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Contains(t, r.raw, `"error":"slow_down"`)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	assert.Equal(t, calls, m.getUser.Load(), "a delayed request does not check the password")
	// An unknown account is throttled like a known one would be: the
	// answer tells nothing about existence; it is not delayed by alice.
	assert.Equal(t, http.StatusBadRequest, login("bob", "x").status)

	e.clock.Advance(time.Second)
	assert.Equal(t, http.StatusOK, login("alice", "alice-password").status, "a delay, never a lock")
}

// ClientAddress believes X-Forwarded-For only from trusted proxies and
// groups IPv6 by /64.
func TestClientAddress(t *testing.T) {
	srv, err := oauth2server.New(memorymodel.New(), oauth2server.Options{TrustedProxies: []string{"10.0.0.0/8", "::1"}})
	require.NoError(t, err)
	tests := []struct {
		name       string
		givenPeer  string
		givenXFF   []string
		expectAddr string
	}{
		{name: "ok, direct IPv4", givenPeer: "198.51.100.7:1234", expectAddr: "198.51.100.7"},
		{name: "ok, direct IPv4-mapped", givenPeer: "[::ffff:198.51.100.7]:1234", expectAddr: "198.51.100.7"},
		{name: "ok, direct IPv6 grouped by /64", givenPeer: "[2001:db8:1:2:3:4:5:6]:1", expectAddr: "2001:db8:1:2::/64"},
		{name: "ok, untrusted peer's XFF ignored", givenPeer: "198.51.100.7:1", givenXFF: []string{"203.0.113.1"}, expectAddr: "198.51.100.7"},
		{name: "ok, trusted proxy", givenPeer: "10.1.2.3:1", givenXFF: []string{"203.0.113.1"}, expectAddr: "203.0.113.1"},
		{name: "ok, client-written hops left of the first untrusted are ignored", givenPeer: "10.1.2.3:1", givenXFF: []string{"1.1.1.1, 203.0.113.1, 10.9.9.9"}, expectAddr: "203.0.113.1"},
		{name: "ok, several headers", givenPeer: "[::1]:1", givenXFF: []string{"1.1.1.1", "2001:db8::1, 10.0.0.1"}, expectAddr: "2001:db8::/64"},
		{name: "ok, garbage in XFF stops at the last good hop", givenPeer: "10.1.2.3:1", givenXFF: []string{"nonsense"}, expectAddr: "10.1.2.3"},
		{name: "ok, only proxies", givenPeer: "10.1.2.3:1", givenXFF: []string{"10.0.0.9"}, expectAddr: "10.0.0.9"},
		{name: "nok, unparsable peer", givenPeer: "pipe", expectAddr: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.givenPeer
			for _, v := range tt.givenXFF {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, tt.expectAddr, srv.ClientAddress(r))
		})
	}
}

// An access token longer than any the server issues is refused before a
// lookup.
func TestValidateAccessTokenLengthCap(t *testing.T) {
	var m *countingModel
	e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
		m = &countingModel{Model: mm}
		return m
	}))
	_, err := e.srv.ValidateAccessToken(context.Background(), strings.Repeat("a", 65<<10))
	assert.Equal(t, "invalid_token", oautherrors.From(err).Code)
	assert.Zero(t, m.getAccess.Load(), "not looked up")
	_, err = e.srv.ValidateAccessToken(context.Background(), strings.Repeat("a", 64<<10))
	assert.Equal(t, "invalid_token", oautherrors.From(err).Code)
	assert.EqualValues(t, 1, m.getAccess.Load(), "looked up at the cap")
}

// ParseScope is linear: ns/op grows tenfold from 10k to 100k tokens (it
// grew a hundredfold with the quadratic de-duplication).
func BenchmarkParseScope(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		s := scopeOf(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := oauth2server.ParseScope(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// a request whose client hung up is no server fault: its storage
// error is logged at debug level, not as an ERROR any client could cause.
func TestClientGoneIsNotLoggedAsError(t *testing.T) {
	var logs strings.Builder
	e := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model {
		return &faultModel{Model: m, fail: map[string]bool{"GetClient": true}}
	}), withOptions(func(o *oauth2server.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	send := func(ctx context.Context) {
		req := tokenReq{body: "grant_type=client_credentials", auth: basic(confID, confSecret)}.build().WithContext(ctx)
		assert.Equal(t, http.StatusServiceUnavailable, e.serveRequest(req).status)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	send(gone)
	assert.Contains(t, logs.String(), "level=DEBUG")
	assert.Contains(t, logs.String(), "the client went away")
	assert.NotContains(t, logs.String(), "level=ERROR")

	logs.Reset()
	send(context.Background())
	assert.Contains(t, logs.String(), "level=ERROR", "a real fault is still an error")
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

// A store fault while checking a password is no failure: after many of
// them the account is not delayed (R-112, failures only).
func TestPasswordGrantStoreFaultIsNoFailure(t *testing.T) {
	m := &faultModel{fail: map[string]bool{}}
	e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
		m.Model = mm
		return m
	}), withOptions(func(o *oauth2server.Options) { o.AllowPasswordGrant = true }))
	login := func() int {
		return e.serve(tokenReq{body: url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-password"}}.Encode(),
			auth: basic(confID, confSecret)}).status
	}
	m.fail["GetUser"] = true
	for range 10 {
		require.Equal(t, http.StatusServiceUnavailable, login())
	}
	m.fail["GetUser"] = false
	assert.Equal(t, http.StatusOK, login(), "not delayed by the outage")
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

// ClientAddress reads at most 16 hops of X-Forwarded-For: a header of a
// hundred thousand trusted-looking hops costs no more than 16.
func TestClientAddressBoundsForwardedHops(t *testing.T) {
	srv, err := oauth2server.New(memorymodel.New(), oauth2server.Options{TrustedProxies: []string{"10.0.0.0/8"}})
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "203.0.113.9,"+strings.TrimSuffix(strings.Repeat("10.0.0.2,", 100_000), ","))
	assert.Equal(t, "10.0.0.2", srv.ClientAddress(r), "the last hop read, a proxy, stands for the client")
	allocs := testing.AllocsPerRun(5, func() { srv.ClientAddress(r) })
	assert.Less(t, allocs, 10.0, "no split of the whole header")
}

// ReleaseClaim undoes the caller's own claim; a value that another
// caller also tried to claim meanwhile stays spent (the safe side).
func TestReleaseClaim(t *testing.T) {
	ctx := context.Background()
	srv, err := oauth2server.New(memorymodel.New(), oauth2server.Options{})
	require.NoError(t, err)
	claim := func() bool {
		ok, err := srv.ClaimOnce(ctx, "test", "v", time.Minute)
		require.NoError(t, err)
		return ok
	}
	require.True(t, claim())
	require.NoError(t, srv.ReleaseClaim(ctx, "test", "v", time.Minute))
	require.True(t, claim(), "claimable again after the release")
	require.False(t, claim(), "spent")
	require.NoError(t, srv.ReleaseClaim(ctx, "test", "v", time.Minute))
	assert.False(t, claim(), "a concurrent attempt keeps it spent")
}
