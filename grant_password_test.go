package oauth2server_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/echo-oauth2/oauth2server"
)

// the password grant works only when listed.
func TestPasswordGrant(t *testing.T) {
	env := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
		o.Grants = []string{oauth2server.GrantPassword, oauth2server.GrantRefreshToken}
		o.AllowPasswordGrant = true
	}))
	var testCases = []struct {
		name         string
		givenParams  url.Values
		givenPublic  bool
		expectStatus int
		expectCode   string
	}{
		{name: "ok, right password", givenParams: url.Values{"username": {"alice"}, "password": {"alice-password"}, "scope": {"read"}}, expectStatus: 200},
		{name: "nok, wrong password", givenParams: url.Values{"username": {"alice"}, "password": {"nope"}}, expectStatus: 400, expectCode: "invalid_grant"},
		{name: "nok, unknown user", givenParams: url.Values{"username": {"bob"}, "password": {"nope"}}, expectStatus: 400, expectCode: "invalid_grant"},
		{name: "nok, missing password", givenParams: url.Values{"username": {"alice"}}, expectStatus: 400, expectCode: "invalid_request"},
		{name: "nok, missing username", givenParams: url.Values{"password": {"alice-password"}}, expectStatus: 400, expectCode: "invalid_request"},
		{name: "nok, scope beyond the client's", givenParams: url.Values{"username": {"alice"}, "password": {"alice-password"}, "scope": {"root"}}, expectStatus: 400, expectCode: "invalid_scope"},
		{name: "nok, public client", givenParams: url.Values{"username": {"alice"}, "password": {"alice-password"}}, givenPublic: true, expectStatus: 400, expectCode: "unauthorized_client"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env.t = t
			tc.givenParams.Set("grant_type", "password")
			var r answer
			if tc.givenPublic {
				r = env.pubToken(tc.givenParams)
			} else {
				r = env.confToken(tc.givenParams)
			}
			if tc.expectStatus != 200 {
				requireError(t, r, tc.expectStatus, tc.expectCode, false)
				return
			}
			requireOK(t, r)
			assert.NotEmpty(t, r.body["refresh_token"])
			assert.Equal(t, "read", r.body["scope"])
			assert.Equal(t, "u-alice", env.accessToken(str(r.body["access_token"])).UserID)
		})
	}
	t.Run("nok, unknown user and wrong password look the same", func(t *testing.T) {
		env.t = t
		a := env.confToken(url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"x"}})
		b := env.confToken(url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"x"}})
		assert.Equal(t, a.raw, b.raw)
	})
	t.Run("ok, public clients allowed by RequireClientAuthentication", func(t *testing.T) {
		env := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
			o.Grants = []string{oauth2server.GrantPassword}
			o.AllowPasswordGrant = true
			o.RequireClientAuthentication = map[string]bool{oauth2server.GrantPassword: false}
		}))
		r := env.pubToken(url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-password"}})
		requireOK(t, r)
		assert.NotContains(t, r.body, "refresh_token", "refresh_token grant not enabled")
	})
}
