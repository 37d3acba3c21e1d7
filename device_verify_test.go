package oauth2server_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

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
