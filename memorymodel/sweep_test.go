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

// Grant families forget their expired members, so that a family saved
// into for long, or many families of one token each, do not grow without
// bound either.
func TestSweepShrinksFamilies(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m := New(WithClock(func() time.Time { return now }))
	ctx := context.Background()
	for i := range 3000 {
		grant := "one-family"
		if i%2 == 1 {
			grant = "family-" + strconv.Itoa(i)
		}
		require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: "at-" + strconv.Itoa(i),
			AccessTokenExpiresAt: now.Add(time.Minute), GrantID: grant}, nil, nil))
		require.NoError(t, m.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{Code: "c-" + strconv.Itoa(i),
			ExpiresAt: now.Add(time.Minute), GrantID: grant}, nil, nil))
	}
	tokens, codes := familyMembers(m)
	assert.Equal(t, 3000, tokens)
	assert.Equal(t, 3000, codes)
	now = now.Add(time.Hour)
	require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: "live",
		AccessTokenExpiresAt: now.Add(time.Minute), GrantID: "one-family"}, nil, nil))
	m.Sweep()
	tokens, codes = familyMembers(m)
	assert.Equal(t, 1, tokens, "only the live token is left")
	assert.Zero(t, codes)
	require.NoError(t, m.RevokeGrant(ctx, "one-family"))
	tok, err := m.GetAccessToken(ctx, "live")
	require.NoError(t, err)
	assert.True(t, tok.Revoked)
}

// familyMembers is the number of tokens and codes in m's grant families.
func familyMembers(m *Model) (tokens, codes int) {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		for _, r := range s.tokenFamilies {
			for ; r != nil; r = r.next {
				tokens++
			}
		}
		for _, r := range s.codeFamilies {
			for ; r != nil; r = r.next {
				codes++
			}
		}
		s.mu.RUnlock()
	}
	return tokens, codes
}
