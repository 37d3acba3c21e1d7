package memorymodel_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func newDevice(dc, uc string) *oauth2server.DeviceCode {
	return &oauth2server.DeviceCode{
		DeviceCode: dc, UserCode: uc, ClientID: "tv", Scope: []string{"read"},
		IssuedAt: t0, ExpiresAt: t0.Add(10 * time.Minute), Interval: 5 * time.Second,
		Status: oauth2server.DeviceCodePending, GrantID: "g1",
	}
}

func TestDeviceCodeSaveAndCopies(t *testing.T) {
	ctx := context.Background()
	now := t0
	m := memorymodel.New(memorymodel.WithClock(func() time.Time { return now }))
	d := newDevice("dc1", "BCDF-GHJK")
	require.NoError(t, m.SaveDeviceCode(ctx, d))
	d.Scope[0] = "changed"

	got, err := m.GetDeviceCodeByUserCode(ctx, "BCDF-GHJK")
	require.NoError(t, err)
	assert.Equal(t, []string{"read"}, got.Scope, "copied in")
	got.Scope[0] = "changed"
	got, _ = m.GetDeviceCodeByUserCode(ctx, "BCDF-GHJK")
	assert.Equal(t, []string{"read"}, got.Scope, "copied out")

	missing, err := m.GetDeviceCodeByUserCode(ctx, "ZZZZ-ZZZZ")
	assert.NoError(t, err)
	assert.Nil(t, missing)

	err = m.SaveDeviceCode(ctx, newDevice("dc2", "BCDF-GHJK"))
	assert.ErrorIs(t, err, oauth2server.ErrUserCodeTaken, "live user code")
	err = m.SaveDeviceCode(ctx, newDevice("dc1", "CCCC-CCCC"))
	assert.ErrorIs(t, err, oauth2server.ErrUserCodeTaken, "live device code")

	now = t0.Add(10 * time.Minute)
	require.NoError(t, m.SaveDeviceCode(ctx, newDevice("dc2", "BCDF-GHJK")), "the old one expired")
	p, err := m.PollDeviceCode(ctx, "dc1", "tv", now)
	require.NoError(t, err)
	assert.Nil(t, p, "the expired request was replaced")
}

func TestDeviceCodePollAndInterval(t *testing.T) {
	ctx := context.Background()
	m := memorymodel.New()
	require.NoError(t, m.SaveDeviceCode(ctx, newDevice("dc1", "BCDF-GHJK")))

	p, err := m.PollDeviceCode(ctx, "dc1", "tv", t0.Add(time.Second))
	require.NoError(t, err)
	assert.True(t, p.LastPolledAt.IsZero(), "the state before the first poll")
	p, err = m.PollDeviceCode(ctx, "dc1", "tv", t0.Add(2*time.Second))
	require.NoError(t, err)
	assert.Equal(t, t0.Add(time.Second), p.LastPolledAt, "the previous poll")

	require.NoError(t, m.RaiseDeviceInterval(ctx, "dc1", 10*time.Second))
	require.NoError(t, m.RaiseDeviceInterval(ctx, "dc1", 7*time.Second))
	require.NoError(t, m.RaiseDeviceInterval(ctx, "unknown", 7*time.Second))
	got, _ := m.GetDeviceCodeByUserCode(ctx, "BCDF-GHJK")
	assert.Equal(t, 10*time.Second, got.Interval, "never lowered")

	p, err = m.PollDeviceCode(ctx, "unknown", "tv", t0)
	assert.NoError(t, err)
	assert.Nil(t, p)
}

func TestDeviceCodeDecisionAndConsume(t *testing.T) {
	ctx := context.Background()
	m := memorymodel.New()
	require.NoError(t, m.SaveDeviceCode(ctx, newDevice("dc1", "BCDF-GHJK")))

	ok, err := m.ConsumeDeviceCode(ctx, "dc1")
	require.NoError(t, err)
	assert.False(t, ok, "pending cannot be consumed")

	ok, err = m.SetDeviceDecision(ctx, "BCDF-GHJK", &oauth2server.DeviceDecision{Approved: true, UserID: "alice", Scope: []string{"read"}, Now: t0.Add(10 * time.Minute)})
	require.NoError(t, err)
	assert.False(t, ok, "expired")
	ok, err = m.SetDeviceDecision(ctx, "ZZZZ-ZZZZ", &oauth2server.DeviceDecision{Now: t0})
	require.NoError(t, err)
	assert.False(t, ok, "unknown")

	// The goroutines wait on start so that their decisions really overlap.
	var wg, start sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	start.Add(1)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			ok, err := m.SetDeviceDecision(ctx, "BCDF-GHJK", &oauth2server.DeviceDecision{Approved: i%2 == 0, UserID: "alice", Scope: []string{"read"}, Now: t0})
			assert.NoError(t, err)
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	start.Done()
	wg.Wait()
	assert.Equal(t, 1, wins, "one decision")
	got, _ := m.GetDeviceCodeByUserCode(ctx, "BCDF-GHJK")
	assert.Equal(t, "alice", got.UserID)

	require.NoError(t, m.SaveDeviceCode(ctx, newDevice("dc2", "CCCC-CCCC")))
	ok, err = m.SetDeviceDecision(ctx, "CCCC-CCCC", &oauth2server.DeviceDecision{Approved: true, UserID: "bob", Scope: []string{}, Now: t0})
	require.NoError(t, err)
	require.True(t, ok)
	wins = 0
	start.Add(1)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			ok, err := m.ConsumeDeviceCode(ctx, "dc2")
			assert.NoError(t, err)
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	start.Done()
	wg.Wait()
	assert.Equal(t, 1, wins, "consumed once")
	got, _ = m.GetDeviceCodeByUserCode(ctx, "CCCC-CCCC")
	assert.Equal(t, oauth2server.DeviceCodeRedeemed, got.Status)
	assert.Equal(t, "bob", got.UserID)
}

func TestDeviceCodeCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := memorymodel.New()
	assert.Error(t, m.SaveDeviceCode(ctx, newDevice("dc1", "BCDF-GHJK")))
	_, err := m.GetDeviceCodeByUserCode(ctx, "BCDF-GHJK")
	assert.Error(t, err)
	_, err = m.SetDeviceDecision(ctx, "BCDF-GHJK", &oauth2server.DeviceDecision{Now: t0})
	assert.Error(t, err)
	_, err = m.PollDeviceCode(ctx, "dc1", "tv", t0)
	assert.Error(t, err)
	assert.Error(t, m.RaiseDeviceInterval(ctx, "dc1", time.Second))
	_, err = m.ConsumeDeviceCode(ctx, "dc1")
	assert.Error(t, err)
}

func TestDeviceCodeSweep(t *testing.T) {
	ctx := context.Background()
	now := t0
	m := memorymodel.New(memorymodel.WithClock(func() time.Time { return now }))
	require.NoError(t, m.SaveDeviceCode(ctx, newDevice("old", "BCDF-GHJK")))
	now = t0.Add(time.Hour)
	for i := range 256 {
		d := newDevice("dc"+string(rune('a'+i%26))+string(rune('a'+i/26)), "")
		d.UserCode = "X" + d.DeviceCode
		d.ExpiresAt = now.Add(time.Minute)
		require.NoError(t, m.SaveDeviceCode(ctx, d))
	}
	got, err := m.GetDeviceCodeByUserCode(ctx, "BCDF-GHJK")
	require.NoError(t, err)
	assert.Nil(t, got, "expired requests are swept")
}
