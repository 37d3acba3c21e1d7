package modeltest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// racers is how many goroutines race for one single-use item.
const racers = 50

// testRefreshTokens checks [oauth2server.RefreshTokenModel]: lookup,
// single-use revocation, rotation and family revocation.
func testRefreshTokens(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.RefreshTokenModel](t, newSetup, "RefreshTokenModel")
	ctx := context.Background()
	setup := func(t *testing.T) (Setup, oauth2server.RefreshTokenModel) {
		s := newSetup(t)
		return s, need[oauth2server.RefreshTokenModel](t, s, "RefreshTokenModel")
	}
	// revokeFoundByAccess saves tok, revokes the record found by its
	// access token and returns the access token lookup, for the checks
	// after the revocation.
	revokeFoundByAccess := func(t *testing.T, s Setup, m oauth2server.RefreshTokenModel, tok *oauth2server.Token) oauth2server.AccessTokenModel {
		t.Helper()
		at := need[oauth2server.AccessTokenModel](t, s, "AccessTokenModel")
		saveToken(t, s, tok)
		ok, err := m.RevokeToken(ctx, getAccess(t, at, tok.AccessToken))
		require.NoError(t, err)
		assert.True(t, ok)
		return at
	}

	t.Run("ok, token round trip by refresh token", func(t *testing.T) {
		s, m := setup(t)
		want := fullToken()
		saveToken(t, s, want)
		assertToken(t, want, getRefresh(t, m, want.RefreshToken), byRefresh)
	})

	t.Run("ok, expired refresh token is returned as stored", func(t *testing.T) {
		s, m := setup(t)
		want := expiredToken()
		saveToken(t, s, want)
		assertToken(t, want, getRefresh(t, m, want.RefreshToken), byRefresh)
	})

	t.Run("ok, changing a returned token does not change the store", func(t *testing.T) {
		s, m := setup(t)
		want := fullToken()
		saveToken(t, s, copyToken(want))
		mutateToken(getRefresh(t, m, want.RefreshToken))
		assertToken(t, want, getRefresh(t, m, want.RefreshToken), byRefresh)
	})

	t.Run("ok, unknown refresh token is nil", func(t *testing.T) {
		s, m := setup(t)
		saveToken(t, s, fullToken())
		assertNotFound(t, m.GetRefreshToken, "no-such-token")
	})

	t.Run("ok, access token is not a refresh token", func(t *testing.T) {
		s, m := setup(t)
		tok := fullToken()
		saveToken(t, s, tok)
		saveToken(t, s, accessOnlyToken())
		assertNotFound(t, m.GetRefreshToken, tok.AccessToken)
	})

	t.Run("ok, RevokeToken reports true once, then false", func(t *testing.T) {
		s, m := setup(t)
		tok := fullToken()
		saveToken(t, s, tok)
		rec := getRefresh(t, m, tok.RefreshToken)
		ok, err := m.RevokeToken(ctx, rec)
		require.NoError(t, err)
		assert.True(t, ok, "first revocation")
		ok, err = m.RevokeToken(ctx, rec)
		require.NoError(t, err)
		assert.False(t, ok, "second revocation")
	})

	t.Run("ok, GetRefreshToken returns a revoked token with Revoked set", func(t *testing.T) {
		// a rotated token must stay visible so that reuse is detected.
		s, m := setup(t)
		tok := fullToken()
		saveToken(t, s, tok)
		ok, err := m.RevokeToken(ctx, getRefresh(t, m, tok.RefreshToken))
		require.NoError(t, err)
		require.True(t, ok)
		want := *tok
		want.Revoked = true
		assertToken(t, &want, getRefresh(t, m, tok.RefreshToken), byRefresh)
	})

	t.Run("ok, RevokeToken of a record found by access token revokes both", func(t *testing.T) {
		s, m := setup(t)
		tok := fullToken()
		at := revokeFoundByAccess(t, s, m, tok)
		assert.True(t, getRefresh(t, m, tok.RefreshToken).Revoked, "refresh token revoked")
		assert.True(t, getAccess(t, at, tok.AccessToken).Revoked, "access token revoked")
	})

	t.Run("ok, RevokeToken of an access-only token", func(t *testing.T) {
		s, m := setup(t)
		tok := accessOnlyToken()
		at := revokeFoundByAccess(t, s, m, tok)
		assert.True(t, getAccess(t, at, tok.AccessToken).Revoked)
	})

	t.Run("ok, RevokeToken of an unknown token is false", func(t *testing.T) {
		s, m := setup(t)
		saveToken(t, s, fullToken())
		ok, err := m.RevokeToken(ctx, fullToken())
		require.NoError(t, err)
		assert.False(t, ok)
	})

	t.Run("ok, concurrent RevokeToken: exactly one true", func(t *testing.T) {
		// two refreshes with one token must not both rotate it.
		s, m := setup(t)
		tok := fullToken()
		saveToken(t, s, tok)
		rec := getRefresh(t, m, tok.RefreshToken)
		wins := race(t, func() (bool, error) {
			cp := *rec
			return m.RevokeToken(ctx, &cp)
		})
		assert.EqualValues(t, 1, wins)
		assert.True(t, getRefresh(t, m, tok.RefreshToken).Revoked)
	})

	t.Run("ok, rotation keeps the old token revoked and the new one live", func(t *testing.T) {
		s, m := setup(t)
		old := fullToken()
		saveToken(t, s, old)
		ok, err := m.RevokeToken(ctx, getRefresh(t, m, old.RefreshToken))
		require.NoError(t, err)
		require.True(t, ok)
		next := fullToken()
		next.GrantID, next.ClientID, next.UserID = old.GrantID, old.ClientID, old.UserID
		saveToken(t, s, next)
		assert.True(t, getRefresh(t, m, old.RefreshToken).Revoked, "old")
		assert.False(t, getRefresh(t, m, next.RefreshToken).Revoked, "new")
	})

	t.Run("ok, RevokeGrant revokes every token of the family and no other", func(t *testing.T) {
		// a replayed code or reused refresh token revokes the
		// family.
		s, m := setup(t)
		a, b, other := fullToken(), fullToken(), fullToken()
		b.GrantID = a.GrantID
		for _, tok := range []*oauth2server.Token{a, b, other} {
			saveToken(t, s, tok)
		}
		require.NoError(t, family(t, s).RevokeGrant(ctx, a.GrantID))
		assert.True(t, getRefresh(t, m, a.RefreshToken).Revoked, "a")
		assert.True(t, getRefresh(t, m, b.RefreshToken).Revoked, "b")
		assert.False(t, getRefresh(t, m, other.RefreshToken).Revoked, "other family")
		assertAccessRevoked(t, s, b.AccessToken, "access token of b")
		ok, err := m.RevokeToken(ctx, getRefresh(t, m, a.RefreshToken))
		require.NoError(t, err)
		assert.False(t, ok, "RevokeToken after RevokeGrant")
	})

	t.Run("ok, RevokeGrant revokes the codes of the family", func(t *testing.T) {
		s, _ := setup(t)
		cm := need[oauth2server.AuthorizationCodeModel](t, s, "AuthorizationCodeModel")
		code, other := fullCode(), fullCode()
		require.NoError(t, cm.SaveAuthorizationCode(ctx, code, nil, nil))
		require.NoError(t, cm.SaveAuthorizationCode(ctx, other, nil, nil))
		require.NoError(t, family(t, s).RevokeGrant(ctx, code.GrantID))
		got, err := cm.GetAuthorizationCode(ctx, code.Code)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.True(t, got.Revoked, "code of the family")
		got, err = cm.GetAuthorizationCode(ctx, other.Code)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.False(t, got.Revoked, "code of another family")
		ok, err := cm.RevokeAuthorizationCode(ctx, code)
		require.NoError(t, err)
		assert.False(t, ok, "RevokeAuthorizationCode after RevokeGrant")
	})

	t.Run("ok, token saved after RevokeGrant is revoked", func(t *testing.T) {
		// A refresh that raced a family revocation must not outlive it.
		s, m := setup(t)
		tok := fullToken()
		require.NoError(t, family(t, s).RevokeGrant(ctx, tok.GrantID))
		saveToken(t, s, tok)
		assert.True(t, getRefresh(t, m, tok.RefreshToken).Revoked)
		assertAccessRevoked(t, s, tok.AccessToken, "access token")
	})

	t.Run("ok, tokens saved while RevokeGrant runs all end revoked", func(t *testing.T) {
		s, m := setup(t)
		for i, tok := range saveWhileRevokingGrant(t, s, family(t, s)) {
			assert.True(t, getRefresh(t, m, tok.RefreshToken).Revoked, "token %d", i)
		}
	})

	t.Run("ok, the first token of a family saved while RevokeGrant runs ends revoked", func(t *testing.T) {
		s, m := setup(t)
		at := need[oauth2server.AccessTokenModel](t, s, "AccessTokenModel")
		for i, tok := range saveFirstWhileRevokingGrant(t, s, family(t, s), fullToken) {
			assert.True(t, getRefresh(t, m, tok.RefreshToken).Revoked, "token %d", i)
		}
		for i, tok := range saveFirstWhileRevokingGrant(t, s, family(t, s), accessOnlyToken) {
			assert.True(t, getAccess(t, at, tok.AccessToken).Revoked, "access-only token %d", i)
		}
	})

	t.Run("ok, RevokeGrant of an unknown family", func(t *testing.T) {
		s, _ := setup(t)
		assert.NoError(t, family(t, s).RevokeGrant(ctx, random("grant-")))
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		s, m := setup(t)
		tok := fullToken()
		saveToken(t, s, tok)
		got, err := m.GetRefreshToken(cancelled(), tok.RefreshToken)
		assert.Error(t, err, "GetRefreshToken")
		assert.Nil(t, got)
		ok, err := m.RevokeToken(cancelled(), getRefresh(t, m, tok.RefreshToken))
		assert.Error(t, err, "RevokeToken")
		assert.False(t, ok)
		assert.Error(t, family(t, s).RevokeGrant(cancelled(), tok.GrantID), "RevokeGrant")
		assert.False(t, getRefresh(t, m, tok.RefreshToken).Revoked, "nothing revoked")
	})
}

// race runs revoke in racers goroutines released together and returns how
// many reported true.
func race(t *testing.T, revoke func() (bool, error)) int32 {
	t.Helper()
	var wins atomic.Int32
	var start, done sync.WaitGroup
	start.Add(1)
	for range racers {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			ok, err := revoke()
			assert.NoError(t, err)
			if ok {
				wins.Add(1)
			}
		}()
	}
	start.Done()
	done.Wait()
	return wins.Load()
}
