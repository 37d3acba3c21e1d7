package oauth2server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// newThrottle returns a LoginThrottle on an in-process store and a test
// clock.
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
