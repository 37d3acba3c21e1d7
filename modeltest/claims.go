package modeltest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// testUserClaims checks [oauth2server.UserClaimsModel].
func testUserClaims(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.UserClaimsModel](t, newSetup, "UserClaimsModel")
	ctx := context.Background()
	claims := map[string]any{"name": "Alice", "email": "alice@example.com", "email_verified": true,
		"address": map[string]any{"country": "UK", "locality": "Oxford"}, "updated_at": 1700000000}
	// setup returns a model holding one user, with claims when set is true.
	setup := func(t *testing.T, set bool) (oauth2server.UserClaimsModel, *oauth2server.User) {
		s := newSetup(t)
		m := need[oauth2server.UserClaimsModel](t, s, "UserClaimsModel")
		if s.AddUser == nil || s.SetUserClaims == nil {
			s.skip(t, "Setup.AddUser or Setup.SetUserClaims is nil")
		}
		u := &oauth2server.User{ID: random("user-"), Username: random("alice-")}
		require.NoError(t, s.AddUser(ctx, u, oauth2server.HashSecret("pw")))
		if set {
			require.NoError(t, s.SetUserClaims(ctx, u.ID, claims))
		}
		return m, u
	}

	t.Run("ok, claims round trip as JSON", func(t *testing.T) {
		m, u := setup(t, true)
		got, err := m.GetUserClaims(ctx, u.ID)
		require.NoError(t, err)
		assertJSONEqual(t, claims, got)
	})

	t.Run("ok, a user without claims has an empty, non-nil map", func(t *testing.T) {
		m, u := setup(t, false)
		got, err := m.GetUserClaims(ctx, u.ID)
		require.NoError(t, err)
		require.NotNil(t, got, "nil means an unknown user: UserInfo would answer invalid_token")
		assert.Empty(t, got)
	})

	t.Run("ok, an unknown user is nil, nil", func(t *testing.T) {
		m, _ := setup(t, true)
		got, err := m.GetUserClaims(ctx, random("ghost-"))
		require.NoError(t, err)
		assert.Nil(t, got)
	})

	t.Run("ok, changing returned claims does not change the store", func(t *testing.T) {
		m, u := setup(t, true)
		got, err := m.GetUserClaims(ctx, u.ID)
		require.NoError(t, err)
		got["email"] = "mallory@example.com"
		addr, ok := got["address"].(map[string]any)
		require.True(t, ok, "address is a JSON object: %T", got["address"])
		addr["country"] = "Wonderland"
		got, err = m.GetUserClaims(ctx, u.ID)
		require.NoError(t, err)
		assert.Equal(t, "alice@example.com", got["email"])
		assert.Equal(t, map[string]any{"country": "UK", "locality": "Oxford"}, got["address"], "a nested object is copied too")
	})

	t.Run("nok, cancelled context is an error", func(t *testing.T) {
		m, u := setup(t, true)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		got, err := m.GetUserClaims(cctx, u.ID)
		assert.Error(t, err)
		assert.Nil(t, got)
	})
}

// assertJSONEqual compares two values by their JSON form: a store may
// return numbers and nested objects in other Go types.
func assertJSONEqual(t *testing.T, want, got any) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(w), string(g))
}
