package modeltest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// fullToken is a token with every field set, in a new grant family. Its
// ID is what a JWT access token carries as its jti.
func fullToken() *oauth2server.Token {
	n := now()
	return &oauth2server.Token{
		ID:                    random("jti-"),
		AccessToken:           random("at-"),
		AccessTokenExpiresAt:  n.Add(time.Hour),
		RefreshToken:          random("rt-"),
		RefreshTokenExpiresAt: n.Add(14 * 24 * time.Hour),
		Scope:                 []string{"read"},
		RefreshTokenScope:     []string{"read", "write"},
		ClientID:              random("client-"),
		UserID:                random("user-"),
		GrantID:               random("grant-"),
		IssuedAt:              n,
		Extra:                 extra(),
	}
}

// accessOnlyToken is a token without refresh token, as client_credentials
// issues it.
func accessOnlyToken() *oauth2server.Token {
	n := now()
	return &oauth2server.Token{
		AccessToken:          random("at-"),
		AccessTokenExpiresAt: n.Add(time.Hour),
		Scope:                []string{"read"},
		ClientID:             random("client-"),
		GrantID:              random("grant-"),
		IssuedAt:             n,
	}
}

// copyToken returns a copy of t that shares no slice or Extra with it, so
// that t stays what was saved whatever the model does with the copy.
func copyToken(t *oauth2server.Token) *oauth2server.Token {
	cp := *t
	cp.Scope, cp.RefreshTokenScope = slices.Clone(t.Scope), slices.Clone(t.RefreshTokenScope)
	cp.Extra = maps.Clone(t.Extra)
	return &cp
}

// mutateToken changes every field of a token a caller could reach,
// slices and Extra in place, to show that the model did not hand out what
// it stores.
func mutateToken(t *oauth2server.Token) {
	t.ID, t.ClientID, t.UserID, t.GrantID = "changed", "changed", "changed", "changed"
	t.Revoked = !t.Revoked
	t.AccessTokenExpiresAt = t.AccessTokenExpiresAt.Add(time.Hour)
	if len(t.Scope) > 0 {
		t.Scope[0] = "admin"
	}
	if len(t.RefreshTokenScope) > 0 {
		t.RefreshTokenScope[0] = "admin"
	}
	if t.Extra != nil {
		t.Extra["tenant"] = "changed"
	}
}

// lookup says which token string a record was found by.
type lookup int

const (
	byAccess lookup = iota
	byRefresh
)

// assertToken checks every field of a token found by the given string. The
// other string may be missing (see the package doc on digests).
func assertToken(t *testing.T, want, got *oauth2server.Token, by lookup) {
	t.Helper()
	require.NotNil(t, got)
	switch by {
	case byAccess:
		assert.Equal(t, want.AccessToken, got.AccessToken, "AccessToken")
		if got.RefreshToken != "" {
			assert.Equal(t, want.RefreshToken, got.RefreshToken, "RefreshToken")
		}
	case byRefresh:
		assert.Equal(t, want.RefreshToken, got.RefreshToken, "RefreshToken")
		if got.AccessToken != "" {
			assert.Equal(t, want.AccessToken, got.AccessToken, "AccessToken")
		}
	}
	assert.Equal(t, want.ID, got.ID, "ID")
	assertTime(t, want.AccessTokenExpiresAt, got.AccessTokenExpiresAt, "AccessTokenExpiresAt")
	assertTime(t, want.RefreshTokenExpiresAt, got.RefreshTokenExpiresAt, "RefreshTokenExpiresAt")
	assertStrings(t, want.Scope, got.Scope, "Scope")
	assertStrings(t, want.RefreshTokenScope, got.RefreshTokenScope, "RefreshTokenScope")
	assert.Equal(t, want.ClientID, got.ClientID, "ClientID")
	assert.Equal(t, want.UserID, got.UserID, "UserID")
	assert.Equal(t, want.GrantID, got.GrantID, "GrantID")
	assertTime(t, want.IssuedAt, got.IssuedAt, "IssuedAt")
	assert.Equal(t, want.Revoked, got.Revoked, "Revoked")
	assertExtra(t, want.Extra, got.Extra, "Extra")
}

// testTokens checks [oauth2server.Model.SaveToken] on its own; the
// capabilities that read tokens back check what it stored.
func testTokens(t *testing.T, newSetup func(t *testing.T) Setup) {
	ctx := context.Background()

	t.Run("ok, SaveToken stores tokens with and without refresh token", func(t *testing.T) {
		s := newSetup(t)
		require.NoError(t, s.Model.SaveToken(ctx, fullToken(), nil, nil))
		require.NoError(t, s.Model.SaveToken(ctx, accessOnlyToken(), nil, nil))
	})

	t.Run("nok, SaveToken with a cancelled context stores nothing", func(t *testing.T) {
		s := newSetup(t)
		tok := fullToken()
		require.Error(t, s.Model.SaveToken(cancelled(), tok, nil, nil))
		if at, ok := as[oauth2server.AccessTokenModel](s.Model); ok {
			got, err := at.GetAccessToken(ctx, tok.AccessToken)
			require.NoError(t, err)
			assert.Nil(t, got)
		}
	})
}

// testAccessTokens checks [oauth2server.AccessTokenModel].
func testAccessTokens(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.AccessTokenModel](t, newSetup, "AccessTokenModel")
	ctx := context.Background()
	setup := func(t *testing.T) (Setup, oauth2server.AccessTokenModel) {
		s := newSetup(t)
		return s, need[oauth2server.AccessTokenModel](t, s, "AccessTokenModel")
	}

	t.Run("ok, token round trip by access token", func(t *testing.T) {
		s, m := setup(t)
		want := fullToken()
		require.NoError(t, s.Model.SaveToken(ctx, want, nil, nil))
		got, err := m.GetAccessToken(ctx, want.AccessToken)
		require.NoError(t, err)
		assertToken(t, want, got, byAccess)
	})

	t.Run("ok, access-only token round trip", func(t *testing.T) {
		s, m := setup(t)
		want := accessOnlyToken()
		require.NoError(t, s.Model.SaveToken(ctx, want, nil, nil))
		got, err := m.GetAccessToken(ctx, want.AccessToken)
		require.NoError(t, err)
		assertToken(t, want, got, byAccess)
		assert.Empty(t, got.RefreshToken)
	})

	t.Run("ok, unknown access token is nil", func(t *testing.T) {
		s, m := setup(t)
		require.NoError(t, s.Model.SaveToken(ctx, fullToken(), nil, nil))
		got, err := m.GetAccessToken(ctx, "no-such-token")
		require.NoError(t, err)
		assert.Nil(t, got)
	})

	t.Run("ok, refresh token is not an access token", func(t *testing.T) {
		s, m := setup(t)
		tok := fullToken()
		require.NoError(t, s.Model.SaveToken(ctx, tok, nil, nil))
		got, err := m.GetAccessToken(ctx, tok.RefreshToken)
		require.NoError(t, err)
		assert.Nil(t, got)
	})

	t.Run("ok, expired token is returned as stored", func(t *testing.T) {
		s, m := setup(t)
		want := fullToken()
		want.IssuedAt = now().Add(-3 * time.Hour)
		want.AccessTokenExpiresAt = now().Add(-2 * time.Hour)
		want.RefreshTokenExpiresAt = now().Add(-time.Hour)
		require.NoError(t, s.Model.SaveToken(ctx, want, nil, nil))
		got, err := m.GetAccessToken(ctx, want.AccessToken)
		require.NoError(t, err)
		assertToken(t, want, got, byAccess)
	})

	t.Run("ok, token saved revoked stays revoked", func(t *testing.T) {
		s, m := setup(t)
		want := fullToken()
		want.Revoked = true
		require.NoError(t, s.Model.SaveToken(ctx, want, nil, nil))
		got, err := m.GetAccessToken(ctx, want.AccessToken)
		require.NoError(t, err)
		assertToken(t, want, got, byAccess)
	})

	t.Run("ok, changing the saved token afterwards does not change the store", func(t *testing.T) {
		s, m := setup(t)
		want := fullToken()
		saved := copyToken(want)
		require.NoError(t, s.Model.SaveToken(ctx, saved, nil, nil))
		mutateToken(saved)
		got, err := m.GetAccessToken(ctx, want.AccessToken)
		require.NoError(t, err)
		assertToken(t, want, got, byAccess)
	})

	t.Run("ok, changing a returned token does not change the store", func(t *testing.T) {
		// The Server fills in and passes on the Tokens it reads; a model
		// that hands out what it stores would let that change its state.
		s, m := setup(t)
		want := fullToken()
		require.NoError(t, s.Model.SaveToken(ctx, copyToken(want), nil, nil))
		got, err := m.GetAccessToken(ctx, want.AccessToken)
		require.NoError(t, err)
		require.NotNil(t, got)
		mutateToken(got)
		got, err = m.GetAccessToken(ctx, want.AccessToken)
		require.NoError(t, err)
		assertToken(t, want, got, byAccess)
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		s, m := setup(t)
		tok := fullToken()
		require.NoError(t, s.Model.SaveToken(ctx, tok, nil, nil))
		got, err := m.GetAccessToken(cancelled(), tok.AccessToken)
		assert.Error(t, err)
		assert.Nil(t, got)
	})
}
