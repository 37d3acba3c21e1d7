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

// testRevokedJTIs checks [oauth2server.RevokedJTIModel]: the deny-list
// itself, and the contract that every token record the model marks revoked
// has its ID deny-listed, which is how revoking a grant family reaches JWT
// access tokens.
func testRevokedJTIs(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.RevokedJTIModel](t, newSetup, "RevokedJTIModel")
	ctx := context.Background()
	setup := func(t *testing.T) (Setup, oauth2server.RevokedJTIModel) {
		s := newSetup(t)
		return s, need[oauth2server.RevokedJTIModel](t, s, "RevokedJTIModel")
	}
	revoked := func(t *testing.T, m oauth2server.RevokedJTIModel, jti string) bool {
		t.Helper()
		ok, err := m.IsJTIRevoked(ctx, jti)
		require.NoError(t, err)
		return ok
	}

	t.Run("ok, a revoked jti is reported until its expiry, an unknown one is not", func(t *testing.T) {
		// a revoked JWT access token must be refused.
		_, m := setup(t)
		jti, other := random("jti-"), random("jti-")
		require.NoError(t, m.RevokeJTI(ctx, jti, now().Add(time.Hour)))
		assert.True(t, revoked(t, m, jti), "revoked")
		assert.False(t, revoked(t, m, other), "unknown")
		assert.False(t, revoked(t, m, ""), "empty")
	})

	t.Run("ok, RevokeJTI is idempotent and an earlier expiry does not shorten the entry", func(t *testing.T) {
		_, m := setup(t)
		jti := random("jti-")
		require.NoError(t, m.RevokeJTI(ctx, jti, now().Add(time.Hour)))
		require.NoError(t, m.RevokeJTI(ctx, jti, now().Add(time.Hour)), "same again")
		require.NoError(t, m.RevokeJTI(ctx, jti, now().Add(-time.Minute)), "earlier expiry")
		assert.True(t, revoked(t, m, jti))
	})

	t.Run("ok, concurrent RevokeJTI of one jti", func(t *testing.T) {
		_, m := setup(t)
		jti := random("jti-")
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				assert.NoError(t, m.RevokeJTI(ctx, jti, now().Add(time.Duration(i+1)*time.Minute)))
			}()
		}
		wg.Wait()
		assert.True(t, revoked(t, m, jti))
	})

	t.Run("ok, an expired entry may be dropped, and revoking it again holds", func(t *testing.T) {
		// Whether IsJTIRevoked reports an expired entry is the model's
		// choice: an expired JWT is refused anyway.
		_, m := setup(t)
		jti := random("jti-")
		require.NoError(t, m.RevokeJTI(ctx, jti, now().Add(-time.Minute)))
		_, err := m.IsJTIRevoked(ctx, jti)
		require.NoError(t, err)
		require.NoError(t, m.RevokeJTI(ctx, jti, now().Add(time.Hour)))
		assert.True(t, revoked(t, m, jti))
	})

	t.Run("ok, RevokeToken deny-lists the ID of the stored record", func(t *testing.T) {
		// revoking the record of a JWT access token revokes the JWT.
		s, m := setup(t)
		rm := need[oauth2server.RefreshTokenModel](t, s, "RefreshTokenModel")
		byAccessTok, byRefreshTok, other := fullToken(), fullToken(), fullToken()
		for _, tok := range []*oauth2server.Token{byAccessTok, byRefreshTok, other} {
			saveToken(t, s, tok)
			assert.False(t, revoked(t, m, tok.ID), "not revoked when saved")
		}
		// The caller's Token carries only the string: the model must use
		// the ID it stored.
		ok, err := rm.RevokeToken(ctx, &oauth2server.Token{AccessToken: byAccessTok.AccessToken})
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = rm.RevokeToken(ctx, &oauth2server.Token{RefreshToken: byRefreshTok.RefreshToken})
		require.NoError(t, err)
		require.True(t, ok)
		assert.True(t, revoked(t, m, byAccessTok.ID), "found by access token")
		assert.True(t, revoked(t, m, byRefreshTok.ID), "found by refresh token")
		assert.False(t, revoked(t, m, other.ID), "another token")
	})

	t.Run("ok, RevokeToken of a token without ID", func(t *testing.T) {
		s, m := setup(t)
		rm := need[oauth2server.RefreshTokenModel](t, s, "RefreshTokenModel")
		tok := fullToken()
		tok.ID = ""
		saveToken(t, s, tok)
		ok, err := rm.RevokeToken(ctx, tok)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.False(t, revoked(t, m, ""), "no empty jti")
	})

	t.Run("ok, RevokeGrant deny-lists the IDs of the family and no other", func(t *testing.T) {
		// a replayed code or a reused refresh token revokes
		// the family, JWT access tokens included.
		s, m := setup(t)
		rm := need[oauth2server.RefreshTokenModel](t, s, "RefreshTokenModel")
		a, b, rotated, other := fullToken(), fullToken(), fullToken(), fullToken()
		b.GrantID, rotated.GrantID = a.GrantID, a.GrantID
		for _, tok := range []*oauth2server.Token{a, b, rotated, other} {
			saveToken(t, s, tok)
		}
		ok, err := rm.RevokeToken(ctx, rotated)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, family(t, s).RevokeGrant(ctx, a.GrantID))
		for name, tok := range map[string]*oauth2server.Token{"a": a, "b": b, "rotated": rotated} {
			assert.True(t, revoked(t, m, tok.ID), name)
		}
		assert.False(t, revoked(t, m, other.ID), "another family")
	})

	t.Run("ok, RevokeGrant deny-lists the ID of a record without access token", func(t *testing.T) {
		// the contract covers every record the model marks revoked,
		// not only those it indexes by access token. A record holding only
		// the refresh token (and the jti of the JWT issued with it) is
		// found through its refresh token.
		s, m := setup(t)
		rm := need[oauth2server.RefreshTokenModel](t, s, "RefreshTokenModel")
		tok := fullToken()
		tok.AccessToken = ""
		saveToken(t, s, tok)
		require.NoError(t, family(t, s).RevokeGrant(ctx, tok.GrantID))
		assert.True(t, getRefresh(t, rm, tok.RefreshToken).Revoked, "record revoked")
		assert.True(t, revoked(t, m, tok.ID), "its ID deny-listed")
	})

	t.Run("ok, SaveToken into a revoked grant deny-lists the ID", func(t *testing.T) {
		s, m := setup(t)
		need[oauth2server.RefreshTokenModel](t, s, "RefreshTokenModel")
		tok := fullToken()
		require.NoError(t, family(t, s).RevokeGrant(ctx, tok.GrantID))
		saveToken(t, s, tok)
		assert.True(t, revoked(t, m, tok.ID))
	})

	t.Run("ok, tokens saved while RevokeGrant runs all end deny-listed", func(t *testing.T) {
		// A refresh racing a family revocation must not yield a live JWT.
		s, m := setup(t)
		need[oauth2server.RefreshTokenModel](t, s, "RefreshTokenModel")
		for i, tok := range saveWhileRevokingGrant(t, s, family(t, s)) {
			assert.True(t, revoked(t, m, tok.ID), "token %d", i)
		}
	})

	t.Run("ok, the first token of a family saved while RevokeGrant runs ends deny-listed", func(t *testing.T) {
		// A JWT issued in a new family (client_credentials, a code
		// exchange) racing the family's revocation must not stay valid.
		s, m := setup(t)
		need[oauth2server.RefreshTokenModel](t, s, "RefreshTokenModel")
		withID := func() *oauth2server.Token {
			tok := accessOnlyToken()
			tok.ID = random("jti-")
			return tok
		}
		for i, tok := range saveFirstWhileRevokingGrant(t, s, family(t, s), withID) {
			assert.True(t, revoked(t, m, tok.ID), "token %d", i)
		}
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		_, m := setup(t)
		jti := random("jti-")
		assert.Error(t, m.RevokeJTI(cancelled(), jti, now().Add(time.Hour)), "RevokeJTI")
		assert.False(t, revoked(t, m, jti), "nothing stored")
		require.NoError(t, m.RevokeJTI(ctx, jti, now().Add(time.Hour)))
		ok, err := m.IsJTIRevoked(cancelled(), jti)
		assert.Error(t, err, "IsJTIRevoked")
		assert.False(t, ok)
	})
}
