package memorymodel_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// A token's two strings live in different shards; the decisions that
// modeltest races through one of them must hold when callers hold
// different ones.
func TestShardedTokens(t *testing.T) {
	ctx := context.Background()

	t.Run("ok, RevokeToken by access and by refresh token at once: exactly one true", func(t *testing.T) {
		for round := range 50 {
			m, clk := newModel()
			tok := &oauth2server.Token{ID: "jti-" + strconv.Itoa(round), AccessToken: "at", RefreshToken: "rt",
				AccessTokenExpiresAt: clk.Now().Add(time.Hour), RefreshTokenExpiresAt: clk.Now().Add(time.Hour)}
			require.NoError(t, m.SaveToken(ctx, tok, nil, nil))
			var wins atomic.Int32
			var start, wg sync.WaitGroup
			start.Add(1)
			for i := range 8 {
				held := &oauth2server.Token{AccessToken: "at"}
				if i%2 == 1 {
					held = &oauth2server.Token{RefreshToken: "rt"}
				}
				wg.Go(func() {
					start.Wait()
					ok, err := m.RevokeToken(ctx, held)
					assert.NoError(t, err)
					if ok {
						wins.Add(1)
					}
				})
			}
			start.Done()
			wg.Wait()
			require.EqualValues(t, 1, wins.Load(), "round %d", round)
			got, err := m.GetRefreshToken(ctx, "rt")
			require.NoError(t, err)
			assert.True(t, got.Revoked)
			denied, err := m.IsJTIRevoked(ctx, tok.ID)
			require.NoError(t, err)
			assert.True(t, denied)
		}
	})

	t.Run("ok, tokens saved while their family is revoked are all revoked and deny-listed", func(t *testing.T) {
		for round := range 50 {
			m, clk := newModel()
			grant := "grant-" + strconv.Itoa(round)
			toks := make([]*oauth2server.Token, 16)
			var start, wg sync.WaitGroup
			start.Add(1)
			for i := range toks {
				s := strconv.Itoa(i)
				toks[i] = &oauth2server.Token{ID: "jti-" + s, AccessToken: "at-" + s, RefreshToken: "rt-" + s, GrantID: grant,
					AccessTokenExpiresAt: clk.Now().Add(time.Hour), RefreshTokenExpiresAt: clk.Now().Add(time.Hour)}
				wg.Go(func() {
					start.Wait()
					assert.NoError(t, m.SaveToken(ctx, toks[i], nil, nil))
				})
			}
			wg.Go(func() {
				start.Wait()
				assert.NoError(t, m.RevokeGrant(ctx, grant))
			})
			start.Done()
			wg.Wait()
			for _, tok := range toks {
				got, err := m.GetAccessToken(ctx, tok.AccessToken)
				require.NoError(t, err)
				assert.True(t, got.Revoked, "round %d: %s outlived its family", round, tok.AccessToken)
				got, err = m.GetRefreshToken(ctx, tok.RefreshToken)
				require.NoError(t, err)
				assert.True(t, got.Revoked, "round %d: %s outlived its family", round, tok.RefreshToken)
				denied, err := m.IsJTIRevoked(ctx, tok.ID)
				require.NoError(t, err)
				assert.True(t, denied, "round %d: %s not deny-listed", round, tok.ID)
			}
		}
	})

	t.Run("ok, codes saved while their family is revoked are all revoked", func(t *testing.T) {
		for round := range 50 {
			m, clk := newModel()
			grant := "grant-" + strconv.Itoa(round)
			codes := make([]string, 16)
			var start, wg sync.WaitGroup
			start.Add(1)
			for i := range codes {
				codes[i] = "code-" + strconv.Itoa(i)
				wg.Go(func() {
					start.Wait()
					assert.NoError(t, m.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{Code: codes[i],
						GrantID: grant, ExpiresAt: clk.Now().Add(time.Minute)}, nil, nil))
				})
			}
			wg.Go(func() {
				start.Wait()
				assert.NoError(t, m.RevokeGrant(ctx, grant))
			})
			start.Done()
			wg.Wait()
			for _, code := range codes {
				got, err := m.GetAuthorizationCode(ctx, code)
				require.NoError(t, err)
				assert.True(t, got.Revoked, "round %d: %s outlived its family", round, code)
			}
		}
	})
}
