package oauth2server_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// of 50 concurrent redemptions of one code exactly one succeeds, and
// the others count as replays.
func TestConcurrentCodeRedemption(t *testing.T) {
	env := newTestEnv(t)
	env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: confID, RedirectURI: testRedirect,
		CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256", GrantID: "g", Scope: []string{"read"}})
	body := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}}.Encode()

	recs := env.race(50, body)
	counts := countStatus(recs)
	assert.Equal(t, 1, counts[http.StatusOK], "%v", counts)
	assert.Equal(t, 49, counts[http.StatusBadRequest], "%v", counts)
	for _, rec := range recs {
		r := decodeAnswer(t, rec)
		assertNoStore(t, r)
		if r.status == http.StatusOK {
			// The replays revoke the family, the winner's token included.
			assert.True(t, env.accessToken(str(r.body["access_token"])).Revoked)
		} else {
			assert.Equal(t, "invalid_grant", r.body["error"])
		}
	}
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
