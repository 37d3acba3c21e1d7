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

// Expired tokens are dropped as writes go on, and each shard's sweeps are
// spaced by its size so that their cost per write stays constant.
func TestSweepKeepsTheStoreBounded(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m := New(WithClock(func() time.Time { return now }))
	ctx := context.Background()
	save := func(i int, expires time.Time) {
		require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{
			AccessToken: "at-" + strconv.Itoa(i), AccessTokenExpiresAt: expires, ClientID: "c", GrantID: "g",
		}, nil, nil))
	}
	// 5000 live tokens: sweeps find nothing to drop and space out.
	for i := range 5000 {
		save(i, now.Add(time.Hour))
	}
	assert.Equal(t, 5000, accessLen(m))
	kept := 0
	for i := range m.shards {
		kept += m.shards[i].sweepAfter
	}
	assert.GreaterOrEqual(t, kept, 2500, "sweeps are spaced by the shards' sizes")

	// Then 20000 already expired ones: the store never holds more than
	// about twice its live items plus one sweep interval.
	for i := 5000; i < 25000; i++ {
		save(i, now.Add(-time.Second))
		assert.LessOrEqual(t, accessLen(m), 2*5000+2*sweepEvery)
	}
	m.Sweep()
	assert.Equal(t, 5000, accessLen(m))
}

// accessLen is the number of access tokens m holds, expired ones not yet
// swept included.
func accessLen(m *Model) int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		n += len(s.access)
		s.mu.RUnlock()
	}
	return n
}
