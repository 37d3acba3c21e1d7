package oauth2server_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
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
		{name: "ok, right password", givenParams: url.Values{"username": {aliceName}, "password": {alicePassword}, "scope": {"read"}}, expectStatus: 200},
		{name: "nok, wrong password", givenParams: url.Values{"username": {aliceName}, "password": {"nope"}}, expectStatus: 400, expectCode: "invalid_grant"},
		{name: "nok, unknown user", givenParams: url.Values{"username": {"bob"}, "password": {"nope"}}, expectStatus: 400, expectCode: "invalid_grant"},
		{name: "nok, missing password", givenParams: url.Values{"username": {aliceName}}, expectStatus: 400, expectCode: "invalid_request"},
		{name: "nok, missing username", givenParams: url.Values{"password": {alicePassword}}, expectStatus: 400, expectCode: "invalid_request"},
		{name: "nok, scope beyond the client's", givenParams: url.Values{"username": {aliceName}, "password": {alicePassword}, "scope": {"root"}}, expectStatus: 400, expectCode: "invalid_scope"},
		{name: "nok, public client", givenParams: url.Values{"username": {aliceName}, "password": {alicePassword}}, givenPublic: true, expectStatus: 400, expectCode: "unauthorized_client"},
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
			assert.Equal(t, aliceID, env.accessToken(str(r.body["access_token"])).UserID)
		})
	}
	t.Run("nok, unknown user and wrong password look the same", func(t *testing.T) {
		env.t = t
		a := env.confToken(url.Values{"grant_type": {"password"}, "username": {aliceName}, "password": {"x"}})
		b := env.confToken(url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"x"}})
		assert.Equal(t, a.raw, b.raw)
	})
	t.Run("ok, public clients allowed by RequireClientAuthentication", func(t *testing.T) {
		env := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
			o.Grants = []string{oauth2server.GrantPassword}
			o.AllowPasswordGrant = true
			o.RequireClientAuthentication = map[string]bool{oauth2server.GrantPassword: false}
		}))
		r := env.pubToken(url.Values{"grant_type": {"password"}, "username": {aliceName}, "password": {alicePassword}})
		requireOK(t, r)
		assert.NotContains(t, r.body, "refresh_token", "refresh_token grant not enabled")
	})
}

// the password grant is throttled per username; a
// delayed request is 429 with Retry-After and never reaches GetUser.
func TestPasswordGrantThrottle(t *testing.T) {
	var m *countingModel
	e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
		m = &countingModel{Model: mm}
		return m
	}), withOptions(func(o *oauth2server.Options) { o.AllowPasswordGrant = true }))
	login := func(user, pass string) answer {
		return e.serve(tokenReq{body: url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}}.Encode(),
			auth: basic(confID, confSecret)})
	}
	for range 5 {
		require.Equal(t, http.StatusOK, login(aliceName, alicePassword).status, "successes never count")
	}
	for range 6 {
		r := login(aliceName, "wrong")
		require.Equal(t, http.StatusBadRequest, r.status)
		require.Contains(t, r.raw, "invalid_grant")
	}
	calls := m.getUser.Load()
	r := login(aliceName, alicePassword)
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Contains(t, r.raw, `"error":"slow_down"`)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	assert.Equal(t, calls, m.getUser.Load(), "a delayed request does not check the password")
	// An unknown account is throttled like a known one would be: the
	// answer tells nothing about existence; it is not delayed by alice.
	assert.Equal(t, http.StatusBadRequest, login("bob", "x").status)

	e.clock.Advance(time.Second)
	assert.Equal(t, http.StatusOK, login(aliceName, alicePassword).status, "a delay, never a lock")
}

// A store fault while checking a password is no failure: after many of
// them the account is not delayed (R-112, failures only).
func TestPasswordGrantStoreFaultIsNoFailure(t *testing.T) {
	m := &faultModel{fail: map[string]bool{}}
	e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
		m.Model = mm
		return m
	}), withOptions(func(o *oauth2server.Options) { o.AllowPasswordGrant = true }))
	login := func() int {
		return e.serve(tokenReq{body: url.Values{"grant_type": {"password"}, "username": {aliceName}, "password": {alicePassword}}.Encode(),
			auth: basic(confID, confSecret)}).status
	}
	m.fail["GetUser"] = true
	for range 10 {
		require.Equal(t, http.StatusServiceUnavailable, login())
	}
	m.fail["GetUser"] = false
	assert.Equal(t, http.StatusOK, login(), "not delayed by the outage")
}
