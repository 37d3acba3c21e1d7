package memorymodel_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

func TestCountersFollowTheNowArgument(t *testing.T) {
	// The Server passes its own clock; the model's clock must not expire
	// or keep alive a counter behind its back.
	ctx := context.Background()
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m := memorymodel.New(memorymodel.WithClock(func() time.Time { return clock }))
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

	c, err := m.AddCounter(ctx, "login-fail:abc", 1, time.Minute, at)
	require.NoError(t, err)
	assert.Equal(t, oauth2server.Counter{Count: 1, ExpiresAt: at.Add(time.Minute)}, c)
	got, err := m.GetCounter(ctx, "login-fail:abc", at.Add(30*time.Second))
	require.NoError(t, err)
	assert.Equal(t, c, got, "live at now, although the model's clock is past its end")
	got, err = m.GetCounter(ctx, "login-fail:abc", at.Add(time.Minute))
	require.NoError(t, err)
	assert.Zero(t, got, "ended at now = its end")
}

func TestServersOnOneModelShareThrottles(t *testing.T) {
	// Two Servers on one Model are two instances of one deployment: the
	// failures counted by one throttle the other.
	ctx := context.Background()
	m := memorymodel.New()
	opts := oauth2server.Options{LoginThrottle: oauth2server.LoginThrottleOptions{FreeFailures: 2}}
	a, err := oauth2server.New(m, opts)
	require.NoError(t, err)
	b, err := oauth2server.New(m, opts)
	require.NoError(t, err)

	for _, srv := range []*oauth2server.Server{a, b, a} {
		wait, err := srv.LoginThrottle().Attempt(ctx, "alice", "")
		require.NoError(t, err)
		require.Zero(t, wait, "two free failures, and the first delayed one proceeds")
	}
	wait, err := b.LoginThrottle().Attempt(ctx, "alice", "")
	require.NoError(t, err)
	assert.Positive(t, wait, "failures counted through a delay the attempt through b")
}
