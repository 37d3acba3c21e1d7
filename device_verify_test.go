package oauth2server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
)

func TestLookupUserCode(t *testing.T) {
	e := newTestEnv(t)
	_, uc := e.startDevice("read")
	ctx := context.Background()

	got, err := e.srv.LookupUserCode(ctx, strings.ToLower(strings.ReplaceAll(uc, "-", " ")))
	require.NoError(t, err)
	assert.Equal(t, uc, got.UserCode)
	assert.Empty(t, got.DeviceCode, "the device code never reaches the verification page")
	assert.Equal(t, tvID, got.ClientID)
	assert.Equal(t, []string{"read"}, got.Scope)

	_, err = e.srv.LookupUserCode(ctx, "BCDF-GHJK")
	assert.ErrorIs(t, err, oauth2server.ErrInvalidUserCode, "unknown")
	_, err = e.srv.LookupUserCode(ctx, "nonsense")
	assert.ErrorIs(t, err, oauth2server.ErrInvalidUserCode, "malformed")

	require.NoError(t, e.srv.DenyDevice(ctx, uc))
	_, err = e.srv.LookupUserCode(ctx, uc)
	assert.ErrorIs(t, err, oauth2server.ErrInvalidUserCode, "decided")

	_, uc2 := e.startDevice("")
	e.clock.Advance(10 * time.Minute)
	_, err = e.srv.LookupUserCode(ctx, uc2)
	assert.ErrorIs(t, err, oauth2server.ErrInvalidUserCode, "expired")
	assert.ErrorIs(t, e.srv.ApproveDevice(ctx, uc2, &oauth2server.User{ID: "u"}, nil), oauth2server.ErrInvalidUserCode)
}

func TestApproveDevice(t *testing.T) {
	ctx := context.Background()
	alice := &oauth2server.User{ID: "alice"}
	t.Run("nok, scope beyond the request", func(t *testing.T) {
		e := newTestEnv(t)
		_, uc := e.startDevice("read")
		err := e.srv.ApproveDevice(ctx, uc, alice, []string{"read", "write"})
		assert.ErrorIs(t, err, oautherrors.ErrInvalidScope)
		got, err := e.srv.LookupUserCode(ctx, uc)
		require.NoError(t, err, "still pending")
		assert.Equal(t, oauth2server.DeviceCodePending, got.Status)
	})
	t.Run("nok, no user", func(t *testing.T) {
		e := newTestEnv(t)
		_, uc := e.startDevice("read")
		assert.Error(t, e.srv.ApproveDevice(ctx, uc, nil, nil))
		assert.Error(t, e.srv.ApproveDevice(ctx, uc, &oauth2server.User{}, nil))
	})
	t.Run("ok, decided once", func(t *testing.T) {
		e := newTestEnv(t)
		_, uc := e.startDevice("read write")
		require.NoError(t, e.srv.ApproveDevice(ctx, uc, alice, []string{"write"}))
		assert.ErrorIs(t, e.srv.ApproveDevice(ctx, uc, alice, nil), oauth2server.ErrInvalidUserCode)
		assert.ErrorIs(t, e.srv.DenyDevice(ctx, uc), oauth2server.ErrInvalidUserCode)
		stored, err := e.model.GetDeviceCodeByUserCode(ctx, uc)
		require.NoError(t, err)
		assert.Equal(t, oauth2server.DeviceCodeApproved, stored.Status)
		assert.Equal(t, "alice", stored.UserID)
		assert.Equal(t, []string{"write"}, stored.Scope)
	})
	t.Run("ok, concurrent decisions: exactly one wins", func(t *testing.T) {
		e := newTestEnv(t)
		_, uc := e.startDevice("")
		var wg, start sync.WaitGroup
		start.Add(1)
		results := make(chan error, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				if i%2 == 0 {
					results <- e.srv.DenyDevice(ctx, uc)
				} else {
					results <- e.srv.ApproveDevice(ctx, uc, alice, nil)
				}
			}()
		}
		start.Done()
		wg.Wait()
		close(results)
		ok := 0
		for err := range results {
			if err == nil {
				ok++
			} else {
				assert.ErrorIs(t, err, oauth2server.ErrInvalidUserCode)
			}
		}
		assert.Equal(t, 1, ok)
	})
}

// RFC 8628 §5.1, R-111, R-112, R-114: user code guessing is
// rate-limited per address and per account, never globally; a found code
// does not count; the window ends.
func TestUserCodeBruteForceBound(t *testing.T) {
	ctx := context.Background()
	guess := func(i int) string {
		// Valid-looking codes that were never issued (the alphabet has no
		// vowels, so "BBBB" + letters of i is fine).
		a := oauth2server.UserCodeAlphabet
		return fmt.Sprintf("BBBB-%c%c%c%c", a[i/8000%20], a[i/400%20], a[i/20%20], a[i%20])
	}
	t.Run("per key", func(t *testing.T) {
		e := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.Device.UserCodeMaxFailures = 3 }))
		_, uc := e.startDevice("")
		attacker := oauth2server.WithAttemptKey(ctx, "192.0.2.1")
		victim := oauth2server.WithAttemptKey(ctx, "198.51.100.7")
		for i := range 3 {
			_, err := e.srv.LookupUserCode(attacker, guess(i))
			require.ErrorIs(t, err, oauth2server.ErrInvalidUserCode)
		}
		_, err := e.srv.LookupUserCode(attacker, uc)
		assert.ErrorIs(t, err, oauth2server.ErrTooManyAttempts, "even a right code, once the budget is spent")
		assert.Equal(t, 429, oautherrors.From(err).Status)
		assert.ErrorIs(t, e.srv.ApproveDevice(attacker, uc, &oauth2server.User{ID: "x"}, nil), oauth2server.ErrTooManyAttempts)
		assert.ErrorIs(t, e.srv.DenyDevice(attacker, uc), oauth2server.ErrTooManyAttempts)

		_, err = e.srv.LookupUserCode(victim, uc)
		assert.NoError(t, err, "another key is not affected")

		e.clock.Advance(10 * time.Minute)
		_, uc2 := e.startDevice("")
		_, err = e.srv.LookupUserCode(attacker, uc2)
		assert.NoError(t, err, "the window ended")
	})
	t.Run("found codes and typos do not count", func(t *testing.T) {
		e := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.Device.UserCodeMaxFailures = 2 }))
		_, uc := e.startDevice("")
		user := oauth2server.WithAttemptKey(ctx, "192.0.2.1")
		for range 10 {
			_, err := e.srv.LookupUserCode(user, uc)
			require.NoError(t, err)
			_, err = e.srv.LookupUserCode(user, "not a code")
			require.ErrorIs(t, err, oauth2server.ErrInvalidUserCode)
		}
	})
	t.Run("per account, whatever the addresses", func(t *testing.T) {
		e := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
			o.Device.UserCodeMaxFailures = 2
			o.Device.UserCodeMaxAccountFailures = 5
		}))
		_, uc := e.startDevice("")
		mallory := oauth2server.WithAttemptAccount(ctx, "mallory")
		// One account guessing from many addresses: each address stays
		// under its limit, the account does not.
		for i := range 5 {
			_, err := e.srv.LookupUserCode(oauth2server.WithAttemptKey(mallory, fmt.Sprint("10.0.0.", i)), guess(i))
			require.ErrorIs(t, err, oauth2server.ErrInvalidUserCode)
		}
		_, err := e.srv.LookupUserCode(oauth2server.WithAttemptKey(mallory, "10.0.1.1"), uc)
		assert.ErrorIs(t, err, oauth2server.ErrTooManyAttempts)
		assert.Positive(t, oautherrors.From(err).RetryAfter)
		// no global budget: another account from other addresses
		// is untouched, and so is a request without any key.
		alice := oauth2server.WithAttemptKey(oauth2server.WithAttemptAccount(ctx, "alice"), "198.51.100.7")
		_, err = e.srv.LookupUserCode(alice, uc)
		assert.NoError(t, err)
		_, err = e.srv.LookupUserCode(ctx, uc)
		assert.NoError(t, err)
	})
	t.Run("concurrent guesses cannot overrun the limit", func(t *testing.T) {
		e := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.Device.UserCodeMaxFailures = 7 }))
		attacker := oauth2server.WithAttemptKey(ctx, "192.0.2.1")
		var wg, start sync.WaitGroup
		start.Add(1)
		results := make(chan error, 100)
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				_, err := e.srv.LookupUserCode(attacker, guess(i))
				results <- err
			}()
		}
		start.Done()
		wg.Wait()
		close(results)
		counts := map[string]int{}
		for err := range results {
			counts[oautherrors.From(err).Code]++
		}
		assert.Equal(t, map[string]int{"invalid_user_code": 7, "too_many_attempts": 93}, counts)
	})
	t.Run("disabled", func(t *testing.T) {
		e := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
			o.Device.UserCodeMaxFailures = -1
			o.Device.UserCodeMaxAccountFailures = -1
		}))
		attacker := oauth2server.WithAttemptKey(ctx, "192.0.2.1")
		for i := range 50 {
			_, err := e.srv.LookupUserCode(attacker, guess(i))
			require.ErrorIs(t, err, oauth2server.ErrInvalidUserCode)
		}
	})
}
