package modeltest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// testConsentLookups checks [oauth2server.ConsentLookupModel] beside the
// model's [oauth2server.ConsentModel]: consent ids.
func testConsentLookups(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.ConsentLookupModel](t, newSetup, "ConsentLookupModel")
	ctx := context.Background()
	store := func(t *testing.T) (oauth2server.ConsentModel, oauth2server.ConsentLookupModel) {
		s := newSetup(t)
		return need[oauth2server.ConsentModel](t, s, "ConsentModel"), need[oauth2server.ConsentLookupModel](t, s, "ConsentLookupModel")
	}
	consent := func(scope ...string) *oauth2server.Consent {
		return &oauth2server.Consent{ID: oauth2server.NewConsentID(), ClientID: random("client-"), UserID: random("user-"),
			Scope: scope, GrantedAt: now(), ExpiresAt: now().Add(time.Hour)}
	}
	byID := func(t *testing.T, m oauth2server.ConsentLookupModel, id string) *oauth2server.Consent {
		t.Helper()
		got, err := m.GetConsentByID(ctx, id)
		require.NoError(t, err)
		return got
	}

	t.Run("ok, a consent is found by its id with every field", func(t *testing.T) {
		s := newSetup(t)
		cm := need[oauth2server.ConsentModel](t, s, "ConsentModel")
		m := need[oauth2server.ConsentLookupModel](t, s, "ConsentLookupModel")
		want := consent("read", "write")
		require.NoError(t, cm.SaveConsent(ctx, want))
		got := byID(t, m, want.ID)
		require.NotNil(t, got)
		assert.Equal(t, want.ID, got.ID)
		assert.Equal(t, want.ClientID, got.ClientID)
		assert.Equal(t, want.UserID, got.UserID)
		assert.ElementsMatch(t, want.Scope, got.Scope)
		assertTime(t, want.GrantedAt, got.GrantedAt, "GrantedAt")
		assertTime(t, want.ExpiresAt, got.ExpiresAt, "ExpiresAt")
		found, err := cm.FindConsent(ctx, want.ClientID, want.UserID)
		require.NoError(t, err)
		require.NotNil(t, found)
		assert.Equal(t, want.ID, found.ID, "FindConsent returns the id")
		if lm, ok := oauth2server.Capability[oauth2server.ConsentListModel](s.Model); ok {
			list, err := lm.ListConsents(ctx, want.UserID, "")
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, want.ID, list[0].ID, "ListConsents returns the id")
		}
	})

	t.Run("ok, a consent saved without an id gets one of its own", func(t *testing.T) {
		cm, m := store(t)
		var ids []string
		for range 2 {
			c := consent("read")
			c.ID = ""
			require.NoError(t, cm.SaveConsent(ctx, c))
			found, err := cm.FindConsent(ctx, c.ClientID, c.UserID)
			require.NoError(t, err)
			require.NotNil(t, found)
			require.NotEmpty(t, found.ID)
			got := byID(t, m, found.ID)
			require.NotNil(t, got)
			assert.Equal(t, c.UserID, got.UserID)
			ids = append(ids, found.ID)
		}
		assert.NotEqual(t, ids[0], ids[1])
	})

	t.Run("ok, unknown id is nil", func(t *testing.T) {
		_, m := store(t)
		assert.Nil(t, byID(t, m, oauth2server.NewConsentID()))
		assert.Nil(t, byID(t, m, ""))
	})

	t.Run("ok, a replace with the same id keeps it; another id moves it", func(t *testing.T) {
		cm, m := store(t)
		c := consent("read")
		require.NoError(t, cm.SaveConsent(ctx, c))
		wider := *c
		wider.Scope = []string{"read", "write"}
		wider.GrantedAt = c.GrantedAt.Add(time.Minute)
		require.NoError(t, cm.SaveConsent(ctx, &wider))
		got := byID(t, m, c.ID)
		require.NotNil(t, got)
		assert.ElementsMatch(t, []string{"read", "write"}, got.Scope)
		assertTime(t, wider.GrantedAt, got.GrantedAt, "GrantedAt")

		moved := wider
		moved.ID = oauth2server.NewConsentID()
		require.NoError(t, cm.SaveConsent(ctx, &moved))
		assert.Nil(t, byID(t, m, c.ID), "the old id finds nothing")
		got = byID(t, m, moved.ID)
		require.NotNil(t, got)
		assert.Equal(t, c.UserID, got.UserID)
	})

	t.Run("nok, an id held by another consent is an error and changes neither", func(t *testing.T) {
		cm, m := store(t)
		a, b := consent("read"), consent("write")
		require.NoError(t, cm.SaveConsent(ctx, a))
		require.NoError(t, cm.SaveConsent(ctx, b))
		stolen := *b
		stolen.ID = a.ID
		stolen.Scope = []string{"admin"}
		assert.Error(t, cm.SaveConsent(ctx, &stolen))
		got := byID(t, m, a.ID)
		require.NotNil(t, got)
		assert.Equal(t, a.UserID, got.UserID)
		assert.Equal(t, []string{"read"}, got.Scope)
		got = byID(t, m, b.ID)
		require.NotNil(t, got)
		assert.Equal(t, []string{"write"}, got.Scope)
	})

	t.Run("ok, a revoked or expired consent is not found by its id", func(t *testing.T) {
		cm, m := store(t)
		revoked, expired := consent("read"), consent("read")
		expired.ExpiresAt = now().Add(-time.Minute)
		require.NoError(t, cm.SaveConsent(ctx, revoked))
		require.NoError(t, cm.SaveConsent(ctx, expired))
		require.NotNil(t, byID(t, m, revoked.ID))
		require.NoError(t, cm.RevokeConsent(ctx, revoked.ClientID, revoked.UserID))
		assert.Nil(t, byID(t, m, revoked.ID), "revoked")
		assert.Nil(t, byID(t, m, expired.ID), "expired")
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		cm, m := store(t)
		c := consent("read")
		require.NoError(t, cm.SaveConsent(ctx, c))
		got, err := m.GetConsentByID(cancelled(), c.ID)
		assert.Error(t, err)
		assert.Nil(t, got)
	})
}
