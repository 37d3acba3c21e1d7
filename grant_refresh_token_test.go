package oauth2server_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// R-70..R-73: refresh token rotation, reuse detection and scope rules.
func TestRefreshTokenGrant(t *testing.T) {
	issue := func(env *testEnv, public bool) answer {
		env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: map[bool]string{true: pubID, false: confID}[public],
			CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256", Scope: []string{"read", "write"}, UserID: aliceID, GrantID: "fam"})
		params := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "code_verifier": {oauth2server.RFC7636Verifier}}
		var r answer
		if public {
			r = env.pubToken(params)
		} else {
			r = env.confToken(params)
		}
		requireOK(env.t, r)
		require.NotEmpty(env.t, r.body["refresh_token"])
		return r
	}

	t.Run("ok, rotation: the old refresh token is invalid afterwards (R-73)", func(t *testing.T) {
		env := newTestEnv(t)
		first := issue(env, false)
		rt1 := str(first.body["refresh_token"])
		second := env.confToken(refreshParams(rt1))
		requireOK(t, second)
		rt2 := str(second.body["refresh_token"])
		assert.NotEmpty(t, rt2)
		assert.NotEqual(t, rt1, rt2)
		assert.Equal(t, "read write", second.body["scope"])
		tok := env.accessToken(str(second.body["access_token"]))
		assert.Equal(t, "fam", tok.GrantID)
		assert.Equal(t, aliceID, tok.UserID)
		assert.True(t, env.refreshToken(rt1).Revoked)
		assert.True(t, env.accessToken(str(first.body["access_token"])).Revoked, "rotated token's access token revoked")
	})

	t.Run("nok, reuse of a rotated refresh token revokes the family (R-73)", func(t *testing.T) {
		for _, public := range []bool{false, true} {
			env := newTestEnv(t)
			post := env.confToken
			if public {
				post = env.pubToken
			}
			first := issue(env, public)
			rt1 := str(first.body["refresh_token"])
			second := post(refreshParams(rt1))
			requireOK(t, second)
			third := post(refreshParams(str(second.body["refresh_token"])))
			requireOK(t, third)

			reuse := post(refreshParams(rt1))
			requireError(t, reuse, http.StatusBadRequest, "invalid_grant", false)
			assert.Equal(t, "The refresh token is invalid, expired, or revoked.", reuse.body["error_description"])
			assert.True(t, env.accessToken(str(third.body["access_token"])).Revoked, "newest access token")
			assert.True(t, env.refreshToken(str(third.body["refresh_token"])).Revoked, "newest refresh token")
			next := post(refreshParams(str(third.body["refresh_token"])))
			requireError(t, next, http.StatusBadRequest, "invalid_grant", false)
		}
	})

	t.Run("ok, narrower scope narrows only the access token (R-72, R-74)", func(t *testing.T) {
		env := newTestEnv(t)
		first := issue(env, false)
		narrow := env.confToken(refreshParams(str(first.body["refresh_token"]), "read"))
		requireOK(t, narrow)
		assert.Equal(t, "read", narrow.body["scope"])
		tok := env.refreshToken(str(narrow.body["refresh_token"]))
		assert.Equal(t, []string{"read"}, tok.Scope)
		assert.Equal(t, []string{"read", "write"}, tok.RefreshTokenScope)

		// The new refresh token still carries the original scope.
		wide := env.confToken(refreshParams(str(narrow.body["refresh_token"])))
		requireOK(t, wide)
		assert.Equal(t, "read write", wide.body["scope"])
		again := env.confToken(refreshParams(str(wide.body["refresh_token"]), "write"))
		requireOK(t, again)
		assert.Equal(t, "write", again.body["scope"])
	})

	t.Run("nok, wider scope is invalid_scope (R-71)", func(t *testing.T) {
		env := newTestEnv(t)
		first := issue(env, false)
		rt := str(first.body["refresh_token"])
		r := env.confToken(refreshParams(rt, "read", "admin"))
		requireError(t, r, http.StatusBadRequest, "invalid_scope", false)
		assert.Equal(t, "The requested scope exceeds the scope of the refresh token.", r.body["error_description"])
		assert.False(t, env.refreshToken(rt).Revoked, "a refused refresh keeps the token")
		requireOK(t, env.confToken(refreshParams(rt)))
	})

	t.Run("ok, DisableRefreshTokenRotation keeps a confidential client's token", func(t *testing.T) {
		env := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.DisableRefreshTokenRotation = true }))
		first := issue(env, false)
		rt := str(first.body["refresh_token"])
		for i := 0; i < 3; i++ {
			r := env.confToken(refreshParams(rt))
			requireOK(t, r)
			assert.NotContains(t, r.body, "refresh_token")
			assert.Equal(t, "fam", env.accessToken(str(r.body["access_token"])).GrantID)
		}
		assert.False(t, env.refreshToken(rt).Revoked)
	})

	t.Run("ok, DisableRefreshTokenRotation still rotates public clients' tokens", func(t *testing.T) {
		env := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.DisableRefreshTokenRotation = true }))
		first := issue(env, true)
		rt := str(first.body["refresh_token"])
		r := env.pubToken(refreshParams(rt))
		requireOK(t, r)
		assert.NotEmpty(t, r.body["refresh_token"])
		assert.NotEqual(t, rt, r.body["refresh_token"])
		assert.True(t, env.refreshToken(rt).Revoked)
	})

	t.Run("nok, refresh token of another client (R-70)", func(t *testing.T) {
		env := newTestEnv(t)
		first := issue(env, false)
		rt := str(first.body["refresh_token"])
		r := env.do(tokenReq{body: refreshParams(rt).Encode(), auth: basic(otherID, otherSecret)})
		requireError(t, r, http.StatusBadRequest, "invalid_grant", false)
		assert.Equal(t, "The refresh token is invalid, expired, or revoked.", r.body["error_description"])
		pub := env.pubToken(refreshParams(rt))
		requireError(t, pub, http.StatusBadRequest, "invalid_grant", false)
		assert.False(t, env.refreshToken(rt).Revoked, "another client cannot revoke the token")
		requireOK(t, env.confToken(refreshParams(rt)))
	})

	t.Run("nok, expired refresh token (R-75)", func(t *testing.T) {
		env := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.RefreshTokenLifetime = time.Hour }))
		first := issue(env, false)
		env.clock.Advance(time.Hour)
		r := env.confToken(refreshParams(str(first.body["refresh_token"])))
		requireError(t, r, http.StatusBadRequest, "invalid_grant", false)
	})

	t.Run("nok, an access token is not a refresh token", func(t *testing.T) {
		env := newTestEnv(t)
		first := issue(env, false)
		r := env.confToken(refreshParams(str(first.body["access_token"])))
		requireError(t, r, http.StatusBadRequest, "invalid_grant", false)
	})

	t.Run("nok, client without the refresh_token grant gets none and cannot refresh", func(t *testing.T) {
		env := newTestEnv(t)
		env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: limitedID, Scope: []string{"read"}})
		r := env.do(tokenReq{body: "grant_type=authorization_code&code=c", auth: basic(limitedID, confSecret)})
		requireOK(t, r)
		assert.NotContains(t, r.body, "refresh_token")
	})
}

// of 20 concurrent refreshes of one refresh token exactly one
// succeeds; the rest is reuse.
func TestConcurrentRefresh(t *testing.T) {
	for _, rotationOff := range []bool{false, true} {
		env := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.DisableRefreshTokenRotation = rotationOff }))
		env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: confID, GrantID: "g", Scope: []string{"read"}})
		first := env.confToken(url.Values{"grant_type": {"authorization_code"}, "code": {"c"}})
		requireOK(t, first)
		rt := str(first.body["refresh_token"])
		require.NotEmpty(t, rt)

		recs := env.race(20, refreshParams(rt).Encode())
		counts := countStatus(recs)
		if rotationOff {
			// Without rotation a refresh token is meant to be reused.
			assert.Equal(t, 20, counts[http.StatusOK], "%v", counts)
			continue
		}
		assert.Equal(t, 1, counts[http.StatusOK], "%v", counts)
		assert.Equal(t, 19, counts[http.StatusBadRequest], "%v", counts)
		for _, rec := range recs {
			r := decodeAnswer(t, rec)
			if r.status == http.StatusOK {
				assert.True(t, env.refreshToken(str(r.body["refresh_token"])).Revoked, "family revoked on reuse")
			} else {
				assert.Equal(t, "invalid_grant", r.body["error"])
			}
		}
	}
}
