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

// Sweep deletes expired consents, and keeps live ones and ones without an
// expiry; saves sweep on their own every consentSweepEvery.
func TestConsentsAreSwept(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m := New(WithClock(func() time.Time { return now }))
	ctx := context.Background()
	save := func(user string, expires time.Time) {
		require.NoError(t, m.SaveConsent(ctx, &oauth2server.Consent{ClientID: "app", UserID: user,
			Scope: []string{"read"}, GrantedAt: now, ExpiresAt: expires}))
	}
	save("expired", now.Add(-time.Second))
	save("at-expiry", now)
	save("live", now.Add(time.Hour))
	save("forever", time.Time{})
	m.Sweep()
	assert.ElementsMatch(t, []string{"live", "forever"}, consentUsers(m))
	assert.Len(t, m.consents.byID, 2, "the id index follows")

	// A flood of consents that lapse is swept while saves go on, and a
	// sweep comes after as many saves as the last one kept: the walk
	// costs a constant per save at any size.
	for i := range 3 * consentSweepEvery {
		save("u"+strconv.Itoa(i), now.Add(time.Minute))
	}
	now = now.Add(time.Hour)
	for i := range 4 * consentSweepEvery {
		save("v"+strconv.Itoa(i), now.Add(time.Minute))
	}
	for _, u := range consentUsers(m) {
		assert.NotEqual(t, "u", u[:1], "an expired consent outlived a sweep interval: %s", u)
	}
	m.mu.RLock()
	held, kept := len(m.consents.byPair), m.consents.kept
	m.mu.RUnlock()
	assert.Equal(t, 4*consentSweepEvery+1, held, "the v consents and \"forever\"; \"live\" lapsed with the hour")
	assert.Less(t, kept, held, "the last sweep ran before the last saves")
	assert.GreaterOrEqual(t, kept, consentSweepEvery, "no sweep came sooner than consentSweepEvery saves")
}

// The id index holds exactly the ids of the stored consents, through
// replaces with and without a new id and revocations.
func TestConsentIDIndexFollowsTheConsents(t *testing.T) {
	m := New()
	ctx := context.Background()
	c := &oauth2server.Consent{ID: "one", ClientID: "app", UserID: "alice", Scope: []string{"read"}}
	require.NoError(t, m.SaveConsent(ctx, c))
	c.ID = "two"
	require.NoError(t, m.SaveConsent(ctx, c))
	c.ID = ""
	require.NoError(t, m.SaveConsent(ctx, c))
	m.mu.RLock()
	require.Len(t, m.consents.byID, 1)
	for id, key := range m.consents.byID {
		assert.NotContains(t, []string{"one", "two"}, id)
		assert.Equal(t, consentKey{"app", "alice"}, key)
	}
	m.mu.RUnlock()
	require.NoError(t, m.RevokeConsent(ctx, "app", "alice"))
	assert.Empty(t, m.consents.byID)
}

func consentUsers(m *Model) []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []string
	for k := range m.consents.byPair {
		out = append(out, k.userID)
	}
	return out
}
