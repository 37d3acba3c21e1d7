package modeltest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// testConsents checks [oauth2server.ConsentModel].
func testConsents(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.ConsentModel](t, newSetup, "ConsentModel")
	ctx := context.Background()
	store := func(t *testing.T) oauth2server.ConsentModel {
		return need[oauth2server.ConsentModel](t, newSetup(t), "ConsentModel")
	}
	consent := func(scope ...string) *oauth2server.Consent {
		return &oauth2server.Consent{ClientID: random("client-"), UserID: random("user-"), Scope: scope, GrantedAt: now()}
	}

	t.Run("ok, consent round trip", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			expires time.Time
		}{{"without expiry", time.Time{}}, {"with expiry", now().Add(time.Hour)}} {
			t.Run(tc.name, func(t *testing.T) {
				m := store(t)
				want := consent("read", "write")
				want.ExpiresAt = tc.expires
				require.NoError(t, m.SaveConsent(ctx, want))
				got, err := m.FindConsent(ctx, want.ClientID, want.UserID)
				require.NoError(t, err)
				require.NotNil(t, got)
				assert.Equal(t, want.ClientID, got.ClientID)
				assert.Equal(t, want.UserID, got.UserID)
				assert.ElementsMatch(t, want.Scope, got.Scope)
				assertTime(t, want.GrantedAt, got.GrantedAt, "GrantedAt")
				assertTime(t, want.ExpiresAt, got.ExpiresAt, "ExpiresAt")
			})
		}
	})

	t.Run("ok, an expired consent is absent", func(t *testing.T) {
		m := store(t)
		c := consent("read")
		c.ExpiresAt = now().Add(-time.Minute)
		require.NoError(t, m.SaveConsent(ctx, c))
		got, err := m.FindConsent(ctx, c.ClientID, c.UserID)
		require.NoError(t, err)
		assert.Nil(t, got)
		// Saving again brings it back, expiring later.
		c.ExpiresAt = now().Add(time.Hour)
		require.NoError(t, m.SaveConsent(ctx, c))
		got, err = m.FindConsent(ctx, c.ClientID, c.UserID)
		require.NoError(t, err)
		assert.NotNil(t, got)
	})

	t.Run("ok, a sweep keeps live consents; expired ones stay absent", func(t *testing.T) {
		s := newSetup(t)
		m := need[oauth2server.ConsentModel](t, s, "ConsentModel")
		if s.DeleteExpired == nil {
			s.skip(t, "Setup.DeleteExpired is nil")
		}
		expired, live, forever := consent("read"), consent("read"), consent("read")
		expired.ExpiresAt = now().Add(-time.Minute)
		live.ExpiresAt = now().Add(time.Hour)
		for _, c := range []*oauth2server.Consent{expired, live, forever} {
			require.NoError(t, m.SaveConsent(ctx, c))
		}
		require.NoError(t, s.DeleteExpired(ctx))
		for _, c := range []*oauth2server.Consent{live, forever} {
			got, err := m.FindConsent(ctx, c.ClientID, c.UserID)
			require.NoError(t, err)
			assert.NotNil(t, got, "a live consent is kept")
		}
		got, err := m.FindConsent(ctx, expired.ClientID, expired.UserID)
		require.NoError(t, err)
		assert.Nil(t, got)
	})

	t.Run("ok, save replaces the earlier consent", func(t *testing.T) {
		m := store(t)
		c := consent("read", "write")
		require.NoError(t, m.SaveConsent(ctx, c))
		narrower := *c
		narrower.Scope = []string{"read"}
		narrower.GrantedAt = c.GrantedAt.Add(time.Hour)
		require.NoError(t, m.SaveConsent(ctx, &narrower))
		got, err := m.FindConsent(ctx, c.ClientID, c.UserID)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, []string{"read"}, got.Scope)
		assertTime(t, narrower.GrantedAt, got.GrantedAt, "GrantedAt")
	})

	t.Run("ok, consent is per client and per user", func(t *testing.T) {
		m := store(t)
		c := consent("read")
		require.NoError(t, m.SaveConsent(ctx, c))
		for _, ids := range [][2]string{
			{c.ClientID, random("other-user-")},
			{random("other-client-"), c.UserID},
			{c.UserID, c.ClientID},
			// Ids that concatenate alike must not collide.
			{c.ClientID + c.UserID[:1], c.UserID[1:]},
		} {
			got, err := m.FindConsent(ctx, ids[0], ids[1])
			require.NoError(t, err)
			assert.Nil(t, got, "client %q user %q", ids[0], ids[1])
		}
	})

	t.Run("ok, unknown consent is nil", func(t *testing.T) {
		got, err := store(t).FindConsent(ctx, random("client-"), random("user-"))
		require.NoError(t, err)
		assert.Nil(t, got)
	})

	t.Run("ok, revoke deletes, and twice is fine", func(t *testing.T) {
		m := store(t)
		c := consent("read")
		require.NoError(t, m.SaveConsent(ctx, c))
		require.NoError(t, m.RevokeConsent(ctx, c.ClientID, c.UserID))
		got, err := m.FindConsent(ctx, c.ClientID, c.UserID)
		require.NoError(t, err)
		assert.Nil(t, got)
		require.NoError(t, m.RevokeConsent(ctx, c.ClientID, c.UserID))
	})

	t.Run("ok, the stored consent is neither the caller's nor the one returned", func(t *testing.T) {
		m := store(t)
		c := consent("read")
		require.NoError(t, m.SaveConsent(ctx, c))
		c.Scope[0] = "admin"
		got, err := m.FindConsent(ctx, c.ClientID, c.UserID)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, []string{"read"}, got.Scope)
		got.Scope[0] = "admin"
		got, err = m.FindConsent(ctx, c.ClientID, c.UserID)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, []string{"read"}, got.Scope, "after changing the returned consent")
	})

	t.Run("ok, concurrent saves leave one consent", func(t *testing.T) {
		m := store(t)
		c := consent("read")
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cp := *c
				errs[i] = m.SaveConsent(ctx, &cp)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		got, err := m.FindConsent(ctx, c.ClientID, c.UserID)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, []string{"read"}, got.Scope)
	})

	t.Run("nok, consent without ids is an error", func(t *testing.T) {
		m := store(t)
		assert.Error(t, m.SaveConsent(ctx, &oauth2server.Consent{UserID: "u", Scope: []string{"read"}}))
		assert.Error(t, m.SaveConsent(ctx, &oauth2server.Consent{ClientID: "c", Scope: []string{"read"}}))
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		m := store(t)
		c := consent("read")
		_, err := m.FindConsent(cancelled(), c.ClientID, c.UserID)
		assert.Error(t, err)
		assert.Error(t, m.SaveConsent(cancelled(), c))
		assert.Error(t, m.RevokeConsent(cancelled(), c.ClientID, c.UserID))
	})
}
