package modeltest

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// deciders is how many goroutines race to decide one device request.
const deciders = 20

// userCode returns a random user code in canonical form ("BCDF-GHJK").
func userCode() string {
	const alphabet = "BCDFGHJKLMNPQRSTVWXZ"
	var b [8]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out)
}

// pendingDevice is a new device authorization request as the Server saves
// it, with every field it sets.
func pendingDevice() *oauth2server.DeviceCode {
	n := now()
	return &oauth2server.DeviceCode{
		DeviceCode: random("dc-"),
		UserCode:   userCode(),
		ClientID:   random("client-"),
		Scope:      []string{"read", "write"},
		IssuedAt:   n,
		ExpiresAt:  n.Add(10 * time.Minute),
		Interval:   5 * time.Second,
		Status:     oauth2server.DeviceCodePending,
		GrantID:    random("grant-"),
		Extra:      extra(),
	}
}

// assertDevice checks every field of a device request. The codes may come
// back empty: models store only their digests.
func assertDevice(t *testing.T, want, got *oauth2server.DeviceCode) {
	t.Helper()
	require.NotNil(t, got)
	if got.DeviceCode != "" {
		assert.Equal(t, want.DeviceCode, got.DeviceCode, "DeviceCode")
	}
	if got.UserCode != "" {
		assert.Equal(t, want.UserCode, got.UserCode, "UserCode")
	}
	assert.Equal(t, want.ClientID, got.ClientID, "ClientID")
	assertStrings(t, want.Scope, got.Scope, "Scope")
	assertTime(t, want.IssuedAt, got.IssuedAt, "IssuedAt")
	assertTime(t, want.ExpiresAt, got.ExpiresAt, "ExpiresAt")
	assert.Equal(t, want.Interval, got.Interval, "Interval")
	assertTime(t, want.LastPolledAt, got.LastPolledAt, "LastPolledAt")
	assert.Equal(t, want.Status, got.Status, "Status")
	assert.Equal(t, want.UserID, got.UserID, "UserID")
	assert.Equal(t, want.GrantID, got.GrantID, "GrantID")
	assertExtra(t, want.Extra, got.Extra, "Extra")
}

// testDeviceCodes checks [oauth2server.DeviceCodeModel]: storage of device
// authorization requests, a decision that is final, polling, and
// redemption exactly once.
func testDeviceCodes(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.DeviceCodeModel](t, newSetup, "DeviceCodeModel")
	ctx := context.Background()
	setup := func(t *testing.T) oauth2server.DeviceCodeModel {
		return need[oauth2server.DeviceCodeModel](t, newSetup(t), "DeviceCodeModel")
	}
	save := func(t *testing.T, m oauth2server.DeviceCodeModel, d *oauth2server.DeviceCode) {
		t.Helper()
		require.NoError(t, m.SaveDeviceCode(ctx, d.Clone()))
	}
	get := func(t *testing.T, m oauth2server.DeviceCodeModel, userCode string) *oauth2server.DeviceCode {
		t.Helper()
		got, err := m.GetDeviceCodeByUserCode(ctx, userCode)
		require.NoError(t, err)
		require.NotNil(t, got, "user code not found")
		return got
	}
	approve := func(userID string, scope ...string) *oauth2server.DeviceDecision {
		return &oauth2server.DeviceDecision{Approved: true, UserID: userID, Scope: scope, Now: now()}
	}
	deny := func(userID string) *oauth2server.DeviceDecision {
		return &oauth2server.DeviceDecision{UserID: userID, Now: now()}
	}
	decide := func(t *testing.T, m oauth2server.DeviceCodeModel, userCode string, d *oauth2server.DeviceDecision) bool {
		t.Helper()
		ok, err := m.SetDeviceDecision(ctx, userCode, d)
		require.NoError(t, err)
		return ok
	}

	t.Run("ok, round trip by user code and by device code", func(t *testing.T) {
		m := setup(t)
		want := pendingDevice()
		save(t, m, want)
		assertDevice(t, want, get(t, m, want.UserCode))
		got, err := m.PollDeviceCode(ctx, want.DeviceCode, want.ClientID, now())
		require.NoError(t, err)
		assertDevice(t, want, got)
	})

	t.Run("ok, round trip without scope or extra", func(t *testing.T) {
		m := setup(t)
		want := pendingDevice()
		want.Scope, want.Extra = nil, nil
		save(t, m, want)
		assertDevice(t, want, get(t, m, want.UserCode))
	})

	t.Run("ok, the caller's copy is not stored", func(t *testing.T) {
		m := setup(t)
		want := pendingDevice()
		d := want.Clone()
		require.NoError(t, m.SaveDeviceCode(ctx, d))
		d.Scope[0], d.ClientID = "admin", "someone-else"
		got := get(t, m, want.UserCode)
		assertDevice(t, want, got)
		got.Scope[0] = "admin"
		assertDevice(t, want, get(t, m, want.UserCode))
	})

	t.Run("ok, unknown codes", func(t *testing.T) {
		m := setup(t)
		save(t, m, pendingDevice())
		got, err := m.GetDeviceCodeByUserCode(ctx, userCode())
		require.NoError(t, err)
		assert.Nil(t, got, "GetDeviceCodeByUserCode")
		got, err = m.PollDeviceCode(ctx, random("dc-"), random("client-"), now())
		require.NoError(t, err)
		assert.Nil(t, got, "PollDeviceCode")
		ok, err := m.SetDeviceDecision(ctx, userCode(), approve("u1"))
		require.NoError(t, err)
		assert.False(t, ok, "SetDeviceDecision")
		ok, err = m.ConsumeDeviceCode(ctx, random("dc-"))
		require.NoError(t, err)
		assert.False(t, ok, "ConsumeDeviceCode")
		assert.NoError(t, m.RaiseDeviceInterval(ctx, random("dc-"), time.Minute), "RaiseDeviceInterval")
	})

	t.Run("nok, another client's poll finds nothing and changes nothing", func(t *testing.T) {
		m := setup(t)
		d := pendingDevice()
		save(t, m, d)
		got, err := m.PollDeviceCode(ctx, d.DeviceCode, random("client-"), now().Add(time.Second))
		require.NoError(t, err)
		assert.Nil(t, got, "another client's device code is unknown to it")
		got, err = m.PollDeviceCode(ctx, d.DeviceCode, d.ClientID, now())
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.True(t, got.LastPolledAt.IsZero(), "the foreign poll was not recorded")
	})

	t.Run("ok, an expired request is returned as stored", func(t *testing.T) {
		m := setup(t)
		want := pendingDevice()
		want.IssuedAt = now().Add(-20 * time.Minute)
		want.ExpiresAt = now().Add(-10 * time.Minute)
		save(t, m, want)
		assertDevice(t, want, get(t, m, want.UserCode))
	})

	t.Run("ok, approval stores the user and the granted scope, once", func(t *testing.T) {
		m := setup(t)
		d := pendingDevice()
		save(t, m, d)
		decision := approve("alice", "read")
		assert.True(t, decide(t, m, d.UserCode, decision), "approve")
		decision.Scope[0] = "admin" // the caller's slice is not stored
		want := d.Clone()
		want.Status, want.UserID, want.Scope = oauth2server.DeviceCodeApproved, "alice", []string{"read"}
		assertDevice(t, want, get(t, m, d.UserCode))
		assert.False(t, decide(t, m, d.UserCode, deny("mallory")), "a second decision")
		assert.False(t, decide(t, m, d.UserCode, approve("mallory", "read", "write")), "a third decision")
		assertDevice(t, want, get(t, m, d.UserCode))
	})

	t.Run("ok, denial is final", func(t *testing.T) {
		m := setup(t)
		d := pendingDevice()
		save(t, m, d)
		assert.True(t, decide(t, m, d.UserCode, deny("alice")), "deny")
		assert.False(t, decide(t, m, d.UserCode, approve("alice", "read")), "approve after deny")
		want := d.Clone()
		want.Status, want.UserID = oauth2server.DeviceCodeDenied, "alice"
		got := get(t, m, d.UserCode)
		assert.Equal(t, want.Status, got.Status, "Status")
		assert.Equal(t, want.UserID, got.UserID, "UserID")
		ok, err := m.ConsumeDeviceCode(ctx, d.DeviceCode)
		require.NoError(t, err)
		assert.False(t, ok, "a denied request is not redeemed")
	})

	t.Run("ok, no decision on an expired request", func(t *testing.T) {
		m := setup(t)
		d := pendingDevice()
		save(t, m, d)
		for name, at := range map[string]time.Time{"at expiry": d.ExpiresAt, "after expiry": d.ExpiresAt.Add(time.Second)} {
			dec := approve("alice", "read")
			dec.Now = at
			assert.False(t, decide(t, m, d.UserCode, dec), name)
		}
		assertDevice(t, d, get(t, m, d.UserCode))
	})

	t.Run("ok, concurrent decisions: exactly one wins", func(t *testing.T) {
		m := setup(t)
		d := pendingDevice()
		save(t, m, d)
		var (
			mu      sync.Mutex
			winners []string
			start   sync.WaitGroup
			done    sync.WaitGroup
		)
		start.Add(1)
		for i := range deciders {
			done.Add(1)
			go func() {
				defer done.Done()
				user := fmt.Sprintf("user-%d", i)
				dec := approve(user, "read")
				if i%2 == 1 {
					dec = deny(user)
				}
				start.Wait()
				ok, err := m.SetDeviceDecision(ctx, d.UserCode, dec)
				assert.NoError(t, err)
				if ok {
					mu.Lock()
					winners = append(winners, user)
					mu.Unlock()
				}
			}()
		}
		start.Done()
		done.Wait()
		require.Len(t, winners, 1)
		got := get(t, m, d.UserCode)
		assert.Equal(t, winners[0], got.UserID, "the winner's decision is stored")
		var i int
		_, err := fmt.Sscanf(winners[0], "user-%d", &i)
		require.NoError(t, err)
		if i%2 == 0 {
			assert.Equal(t, oauth2server.DeviceCodeApproved, got.Status)
		} else {
			assert.Equal(t, oauth2server.DeviceCodeDenied, got.Status)
		}
	})

	t.Run("ok, PollDeviceCode returns the request before the poll and stores the poll time", func(t *testing.T) {
		m := setup(t)
		d := pendingDevice()
		save(t, m, d)
		first, second := now(), now().Add(7*time.Second)
		got, err := m.PollDeviceCode(ctx, d.DeviceCode, d.ClientID, first)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.True(t, got.LastPolledAt.IsZero(), "no poll before the first")
		got, err = m.PollDeviceCode(ctx, d.DeviceCode, d.ClientID, second)
		require.NoError(t, err)
		require.NotNil(t, got)
		assertTime(t, first, got.LastPolledAt, "previous poll")
		want := d.Clone()
		want.LastPolledAt = second
		assertDevice(t, want, get(t, m, d.UserCode))
	})

	t.Run("ok, PollDeviceCode sees the decision", func(t *testing.T) {
		m := setup(t)
		d := pendingDevice()
		save(t, m, d)
		require.True(t, decide(t, m, d.UserCode, approve("alice", "read")))
		got, err := m.PollDeviceCode(ctx, d.DeviceCode, d.ClientID, now())
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, oauth2server.DeviceCodeApproved, got.Status)
		assert.Equal(t, "alice", got.UserID)
		assertStrings(t, []string{"read"}, got.Scope, "Scope")
	})

	t.Run("ok, polls racing the decision and the redemption undo neither", func(t *testing.T) {
		// A store that applies an update by rewriting the whole document
		// could write a poll's stale copy over the decision.
		m := setup(t)
		d := pendingDevice()
		save(t, m, d)
		stop := make(chan struct{})
		var polls sync.WaitGroup
		for range 8 {
			polls.Add(1)
			go func() {
				defer polls.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, err := m.PollDeviceCode(ctx, d.DeviceCode, d.ClientID, now())
					assert.NoError(t, err)
				}
			}()
		}
		decided := decide(t, m, d.UserCode, approve("alice", "read"))
		ok, err := m.ConsumeDeviceCode(ctx, d.DeviceCode)
		close(stop)
		polls.Wait()
		require.True(t, decided)
		require.NoError(t, err)
		assert.True(t, ok, "redeemed")
		got := get(t, m, d.UserCode)
		assert.Equal(t, oauth2server.DeviceCodeRedeemed, got.Status)
		assert.Equal(t, "alice", got.UserID)
		ok, err = m.ConsumeDeviceCode(ctx, d.DeviceCode)
		require.NoError(t, err)
		assert.False(t, ok, "not redeemable again")
	})

	t.Run("ok, RaiseDeviceInterval never lowers the interval", func(t *testing.T) {
		m := setup(t)
		d := pendingDevice()
		save(t, m, d)
		interval := func() time.Duration { return get(t, m, d.UserCode).Interval }
		require.NoError(t, m.RaiseDeviceInterval(ctx, d.DeviceCode, 10*time.Second))
		assert.Equal(t, 10*time.Second, interval(), "raised")
		require.NoError(t, m.RaiseDeviceInterval(ctx, d.DeviceCode, 7*time.Second))
		assert.Equal(t, 10*time.Second, interval(), "not lowered")
		require.NoError(t, m.RaiseDeviceInterval(ctx, d.DeviceCode, 15*time.Second))
		assert.Equal(t, 15*time.Second, interval(), "raised again")
		got, err := m.PollDeviceCode(ctx, d.DeviceCode, d.ClientID, now())
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, 15*time.Second, got.Interval, "seen by the poll")
	})

	t.Run("ok, ConsumeDeviceCode redeems only an approved request, once", func(t *testing.T) {
		m := setup(t)
		d := pendingDevice()
		save(t, m, d)
		consume := func() bool {
			t.Helper()
			ok, err := m.ConsumeDeviceCode(ctx, d.DeviceCode)
			require.NoError(t, err)
			return ok
		}
		assert.False(t, consume(), "pending")
		require.True(t, decide(t, m, d.UserCode, approve("alice", "read")))
		assert.True(t, consume(), "approved")
		assert.False(t, consume(), "redeemed")
		got, err := m.PollDeviceCode(ctx, d.DeviceCode, d.ClientID, now())
		require.NoError(t, err)
		if got != nil { // a model may delete a redeemed request
			assert.Equal(t, oauth2server.DeviceCodeRedeemed, got.Status)
		}
	})

	t.Run("ok, concurrent redemptions: exactly one true", func(t *testing.T) {
		m := setup(t)
		d := pendingDevice()
		save(t, m, d)
		require.True(t, decide(t, m, d.UserCode, approve("alice", "read")))
		wins := race(t, func() (bool, error) { return m.ConsumeDeviceCode(ctx, d.DeviceCode) })
		assert.EqualValues(t, 1, wins)
	})

	t.Run("nok, a live user code or device code is taken", func(t *testing.T) {
		m := setup(t)
		d := pendingDevice()
		save(t, m, d)
		sameUser := pendingDevice()
		sameUser.UserCode = d.UserCode
		err := m.SaveDeviceCode(ctx, sameUser)
		require.Error(t, err)
		assert.ErrorIs(t, err, oauth2server.ErrUserCodeTaken, "user code")
		sameDevice := pendingDevice()
		sameDevice.DeviceCode = d.DeviceCode
		err = m.SaveDeviceCode(ctx, sameDevice)
		require.Error(t, err)
		assert.ErrorIs(t, err, oauth2server.ErrUserCodeTaken, "device code")
		assertDevice(t, d, get(t, m, d.UserCode))
		got, err := m.GetDeviceCodeByUserCode(ctx, sameDevice.UserCode)
		require.NoError(t, err)
		assert.Nil(t, got, "nothing of the refused request is stored")
	})

	t.Run("ok, the user code of an expired request can be used again", func(t *testing.T) {
		m := setup(t)
		old := pendingDevice()
		old.IssuedAt = now().Add(-20 * time.Minute)
		old.ExpiresAt = now().Add(-time.Minute)
		save(t, m, old)
		require.True(t, decide(t, m, old.UserCode, &oauth2server.DeviceDecision{Approved: true, UserID: "alice", Now: old.IssuedAt}))
		next := pendingDevice()
		next.UserCode = old.UserCode
		save(t, m, next)
		assertDevice(t, next, get(t, m, next.UserCode))
		ok, err := m.ConsumeDeviceCode(ctx, next.DeviceCode)
		require.NoError(t, err)
		assert.False(t, ok, "the old decision does not carry over")
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		m := setup(t)
		d := pendingDevice()
		assert.Error(t, m.SaveDeviceCode(cancelled(), d.Clone()), "SaveDeviceCode")
		got, err := m.GetDeviceCodeByUserCode(ctx, d.UserCode)
		require.NoError(t, err)
		assert.Nil(t, got, "nothing stored")
		save(t, m, d)
		got, err = m.GetDeviceCodeByUserCode(cancelled(), d.UserCode)
		assert.Error(t, err, "GetDeviceCodeByUserCode")
		assert.Nil(t, got)
		ok, err := m.SetDeviceDecision(cancelled(), d.UserCode, approve("alice", "read"))
		assert.Error(t, err, "SetDeviceDecision")
		assert.False(t, ok)
		got, err = m.PollDeviceCode(cancelled(), d.DeviceCode, d.ClientID, now())
		assert.Error(t, err, "PollDeviceCode")
		assert.Nil(t, got)
		assert.Error(t, m.RaiseDeviceInterval(cancelled(), d.DeviceCode, time.Minute), "RaiseDeviceInterval")
		assertDevice(t, d, get(t, m, d.UserCode))

		require.True(t, decide(t, m, d.UserCode, approve("alice", "read")))
		ok, err = m.ConsumeDeviceCode(cancelled(), d.DeviceCode)
		assert.Error(t, err, "ConsumeDeviceCode")
		assert.False(t, ok)
		ok, err = m.ConsumeDeviceCode(ctx, d.DeviceCode)
		require.NoError(t, err)
		assert.True(t, ok, "not redeemed by the cancelled call")
	})
}
