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

func TestRevokedJTIs(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	m := memorymodel.New(memorymodel.WithClock(clock))
	revoked := func(jti string) bool {
		t.Helper()
		ok, err := m.IsJTIRevoked(ctx, jti)
		require.NoError(t, err)
		return ok
	}

	t.Run("ok, RevokeJTI", func(t *testing.T) {
		assert.False(t, revoked("a"))
		require.NoError(t, m.RevokeJTI(ctx, "a", now.Add(time.Hour)))
		require.NoError(t, m.RevokeJTI(ctx, "a", now.Add(time.Minute)), "an earlier expiry does not shorten the entry")
		require.NoError(t, m.RevokeJTI(ctx, "", now.Add(time.Hour)))
		assert.True(t, revoked("a"))
		assert.False(t, revoked(""))
	})
	t.Run("ok, RevokeToken deny-lists the token ID", func(t *testing.T) {
		tok := &oauth2server.Token{ID: "b", AccessToken: "at-b", AccessTokenExpiresAt: now.Add(time.Hour), GrantID: "g-b"}
		require.NoError(t, m.SaveToken(ctx, tok, nil, nil))
		assert.False(t, revoked("b"))
		ok, err := m.RevokeToken(ctx, tok)
		require.NoError(t, err)
		require.True(t, ok)
		assert.True(t, revoked("b"))
	})
	t.Run("ok, RevokeGrant deny-lists the family, also tokens saved later", func(t *testing.T) {
		for _, id := range []string{"c1", "c2"} {
			require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{ID: id, AccessToken: "at-" + id,
				AccessTokenExpiresAt: now.Add(time.Hour), GrantID: "g-c"}, nil, nil))
		}
		require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{ID: "d", AccessToken: "at-d",
			AccessTokenExpiresAt: now.Add(time.Hour), GrantID: "g-d"}, nil, nil))
		require.NoError(t, m.RevokeGrant(ctx, "g-c"))
		assert.True(t, revoked("c1"))
		assert.True(t, revoked("c2"))
		assert.False(t, revoked("d"), "another family is untouched")

		require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{ID: "c3", AccessToken: "at-c3",
			AccessTokenExpiresAt: now.Add(time.Hour), GrantID: "g-c"}, nil, nil))
		assert.True(t, revoked("c3"))
	})
	t.Run("ok, expired entries are swept", func(t *testing.T) {
		require.NoError(t, m.RevokeJTI(ctx, "short", now.Add(time.Minute)))
		now = now.Add(2 * time.Hour)
		m.Sweep()
		assert.False(t, revoked("short"))
		assert.False(t, revoked("a"))
	})
	t.Run("nok, cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		assert.Error(t, m.RevokeJTI(cctx, "x", now))
		_, err := m.IsJTIRevoked(cctx, "x")
		assert.Error(t, err)
	})
}
