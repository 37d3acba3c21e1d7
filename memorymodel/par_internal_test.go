package memorymodel

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// Expired pushed requests are dropped as pushes go on: a flood of pushes
// that are never used holds at most one sweep interval of dead ones.
func TestPushedRequestsAreSwept(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m := New(WithClock(func() time.Time { return now }))
	ctx := context.Background()
	for i := range 10 {
		require.NoError(t, m.SavePushedAuthorizationRequest(ctx, &oauth2server.PushedAuthorizationRequest{
			RequestURI: "live-" + strconv.Itoa(i), ExpiresAt: now.Add(time.Hour)}))
	}
	for i := range 5 * pushedSweepEvery {
		require.NoError(t, m.SavePushedAuthorizationRequest(ctx, &oauth2server.PushedAuthorizationRequest{
			RequestURI: "dead-" + strconv.Itoa(i), ExpiresAt: now.Add(-time.Second)}))
		live, all := m.pushedCount(now)
		require.Equal(t, 10, live)
		require.LessOrEqual(t, all, 10+pushedSweepEvery)
	}
	live, _ := m.pushedCount(now)
	assert.Equal(t, 10, live)
}
