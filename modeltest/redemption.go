package modeltest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// boughtBy is a token the code buys: of the code's client, user and
// family, as the Server issues it.
func boughtBy(code *oauth2server.AuthorizationCode) *oauth2server.Token {
	tok := fullToken()
	tok.ClientID, tok.UserID, tok.GrantID = code.ClientID, code.UserID, code.GrantID
	return tok
}

// testCodeRedemption checks [oauth2server.CodeRedemptionModel]: a code
// buys one token, once, whoever races for it.
func testCodeRedemption(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.CodeRedemptionModel](t, newSetup, "CodeRedemptionModel")
	ctx := context.Background()
	type models struct {
		s     Setup
		codes oauth2server.AuthorizationCodeModel
		r     oauth2server.CodeRedemptionModel
		at    oauth2server.AccessTokenModel
	}
	setup := func(t *testing.T) models {
		s := newSetup(t)
		return models{s: s,
			codes: need[oauth2server.AuthorizationCodeModel](t, s, "AuthorizationCodeModel"),
			r:     need[oauth2server.CodeRedemptionModel](t, s, "CodeRedemptionModel"),
			at:    need[oauth2server.AccessTokenModel](t, s, "AccessTokenModel")}
	}
	// saved stores a new code and returns it.
	saved := func(t *testing.T, m models) *oauth2server.AuthorizationCode {
		t.Helper()
		code := fullCode()
		require.NoError(t, m.codes.SaveAuthorizationCode(ctx, code, nil, nil))
		return code
	}
	redeem := func(t *testing.T, m models, code *oauth2server.AuthorizationCode, tok *oauth2server.Token) bool {
		t.Helper()
		ok, err := m.r.RedeemAuthorizationCode(ctx, code, tok, nil, nil)
		require.NoError(t, err)
		return ok
	}

	t.Run("ok, a code buys its token once; a second redemption saves nothing", func(t *testing.T) {
		m := setup(t)
		code := saved(t, m)
		first, second := boughtBy(code), boughtBy(code)
		require.True(t, redeem(t, m, code, first), "first")
		got := getAccess(t, m.at, first.AccessToken)
		assertToken(t, first, got, byAccess)
		assert.False(t, got.Revoked, "the token is live")

		assert.False(t, redeem(t, m, code, second), "second")
		assertNotFound(t, m.at.GetAccessToken, second.AccessToken)
		ok, err := m.codes.RevokeAuthorizationCode(ctx, code)
		require.NoError(t, err)
		assert.False(t, ok, "RevokeAuthorizationCode after the redemption")
	})

	t.Run("ok, a code spent by RevokeAuthorizationCode buys nothing", func(t *testing.T) {
		m := setup(t)
		code := saved(t, m)
		ok, err := m.codes.RevokeAuthorizationCode(ctx, code)
		require.NoError(t, err)
		require.True(t, ok)
		tok := boughtBy(code)
		assert.False(t, redeem(t, m, code, tok))
		assertNotFound(t, m.at.GetAccessToken, tok.AccessToken)
	})

	t.Run("ok, concurrent redemptions: exactly one true, exactly one token", func(t *testing.T) {
		m := setup(t)
		code := saved(t, m)
		var mu sync.Mutex
		var toks []*oauth2server.Token
		wins := race(t, func() (bool, error) {
			cp := *code
			tok := boughtBy(code)
			mu.Lock()
			toks = append(toks, tok)
			mu.Unlock()
			return m.r.RedeemAuthorizationCode(ctx, &cp, tok, nil, nil)
		})
		assert.EqualValues(t, 1, wins)
		stored := 0
		for _, tok := range toks {
			got, err := m.at.GetAccessToken(ctx, tok.AccessToken)
			require.NoError(t, err)
			if got != nil {
				stored++
				assert.False(t, got.Revoked, "the winner's token is live")
			}
		}
		assert.Equal(t, 1, stored, "tokens saved")
	})

	t.Run("ok, racing RevokeAuthorizationCode and redemptions: exactly one true", func(t *testing.T) {
		m := setup(t)
		code := saved(t, m)
		var mu sync.Mutex
		n := 0
		wins := race(t, func() (bool, error) {
			cp := *code
			mu.Lock()
			n++
			odd := n%2 == 1
			mu.Unlock()
			if odd {
				return m.codes.RevokeAuthorizationCode(ctx, &cp)
			}
			return m.r.RedeemAuthorizationCode(ctx, &cp, boughtBy(code), nil, nil)
		})
		assert.EqualValues(t, 1, wins)
	})

	t.Run("ok, a code whose family was revoked buys nothing", func(t *testing.T) {
		// A code revoked with its family (a replay of another code of
		// it, a user's revocation) must not be redeemable.
		m := setup(t)
		code := saved(t, m)
		require.NoError(t, family(t, m.s).RevokeGrant(ctx, code.GrantID))
		tok := boughtBy(code)
		assert.False(t, redeem(t, m, code, tok))
		assertNotFound(t, m.at.GetAccessToken, tok.AccessToken)
	})

	t.Run("ok, a redemption racing RevokeGrant leaves no live token", func(t *testing.T) {
		m := setup(t)
		gm := family(t, m.s)
		for range 10 {
			code := saved(t, m)
			tok := boughtBy(code)
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, err := m.r.RedeemAuthorizationCode(ctx, code, tok, nil, nil)
				assert.NoError(t, err)
			}()
			go func() {
				defer wg.Done()
				assert.NoError(t, gm.RevokeGrant(ctx, code.GrantID))
			}()
			wg.Wait()
			got, err := m.at.GetAccessToken(ctx, tok.AccessToken)
			require.NoError(t, err)
			if got != nil {
				assert.True(t, got.Revoked, "a token of the revoked family")
			}
		}
	})

	t.Run("ok, a spent code and its revoked token leave no live grant", func(t *testing.T) {
		// A redeemed code must not look live to grant management, even
		// when the model does not mark the code itself.
		m := setup(t)
		gl := need[oauth2server.GrantListModel](t, m.s, "GrantListModel")
		rt := need[oauth2server.RefreshTokenModel](t, m.s, "RefreshTokenModel")
		code := saved(t, m)
		tok := boughtBy(code)
		require.True(t, redeem(t, m, code, tok))
		assert.Contains(t, grantsOf(t, gl, code.UserID, ""), code.GrantID, "live token")
		ok, err := rt.RevokeToken(ctx, tok)
		require.NoError(t, err)
		require.True(t, ok)
		assert.NotContains(t, grantsOf(t, gl, code.UserID, ""), code.GrantID, "by user")
		assert.NotContains(t, grantsOf(t, gl, "", code.ClientID), code.GrantID, "by client")
	})

	t.Run("nok, cancelled context: an error, nothing saved, the code still buys its token", func(t *testing.T) {
		m := setup(t)
		code := saved(t, m)
		tok := boughtBy(code)
		ok, err := m.r.RedeemAuthorizationCode(cancelled(), code, tok, nil, nil)
		assert.Error(t, err)
		assert.False(t, ok)
		assertNotFound(t, m.at.GetAccessToken, tok.AccessToken)
		assert.True(t, redeem(t, m, code, tok), "not spent")
	})
}
