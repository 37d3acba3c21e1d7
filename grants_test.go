package oauth2server_test

import (
	"context"
	stderrors "errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
)

// client_credentials issues no refresh token and grants the
// client's scopes when none is requested.
func TestClientCredentialsGrant(t *testing.T) {
	env := newTestEnv(t)

	t.Run("ok, no scope requested grants the registered scopes", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {"client_credentials"}})
		requireOK(t, r)
		assert.Equal(t, "read write admin", r.body["scope"])
		assert.EqualValues(t, 3600, r.body["expires_in"])
		assert.NotContains(t, r.body, "refresh_token")
		tok := env.accessToken(str(r.body["access_token"]))
		assert.Equal(t, confID, tok.ClientID)
		assert.Empty(t, tok.UserID)
		assert.Empty(t, tok.RefreshToken)
		assert.NotEmpty(t, tok.GrantID)
		assert.Equal(t, env.clock.Now().Add(time.Hour), tok.AccessTokenExpiresAt)
	})
	t.Run("ok, requested scope, duplicates and extra spaces dropped", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {"client_credentials"}, "scope": {"write  read write"}})
		requireOK(t, r)
		assert.Equal(t, "write read", r.body["scope"])
	})
	t.Run("ok, the user of the client from GetUserFromClient", func(t *testing.T) {
		env.t = t
		require.NoError(t, env.model.SetClientUser(context.Background(), confID, "alice"))
		r := env.confToken(url.Values{"grant_type": {"client_credentials"}})
		requireOK(t, r)
		assert.Equal(t, "u-alice", env.accessToken(str(r.body["access_token"])).UserID)
	})
	t.Run("ok, per-client access token lifetime", func(t *testing.T) {
		env.t = t
		require.NoError(t, env.model.AddClient(context.Background(), &oauth2server.Client{ID: "short", SecretHash: oauth2server.HashSecret("x"),
			Grants: []string{"client_credentials"}, AccessTokenLifetime: 90 * time.Second}))
		r := env.do(tokenReq{body: "grant_type=client_credentials", auth: basic("short", "x")})
		requireOK(t, r)
		assert.EqualValues(t, 90, r.body["expires_in"])
	})
}

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

func TestS256ChallengeRFC7636AppendixB(t *testing.T) {
	//
	assert.Equal(t, oauth2server.RFC7636Challenge, oauth2server.S256Challenge(oauth2server.RFC7636Verifier))
	assert.True(t, oauth2server.ValidPKCEString(oauth2server.RFC7636Verifier))
	assert.True(t, oauth2server.ValidPKCEString(oauth2server.RFC7636Challenge))
}

func TestValidPKCEString(t *testing.T) {
	var testCases = []struct {
		name   string
		given  string
		expect bool
	}{
		{"ok, 43 characters", strings.Repeat("a", 43), true},
		{"ok, 128 characters", strings.Repeat("Z", 128), true},
		{"ok, every unreserved character", "AZaz09-._~" + strings.Repeat("x", 33), true},
		{"nok, 42 characters", strings.Repeat("a", 42), false},
		{"nok, 129 characters", strings.Repeat("a", 129), false},
		{"nok, plus sign", "+" + strings.Repeat("a", 42), false},
		{"nok, slash", "/" + strings.Repeat("a", 42), false},
		{"nok, space", " " + strings.Repeat("a", 42), false},
		{"nok, non-ASCII", "é" + strings.Repeat("a", 42), false},
		{"nok, empty", "", false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.expect, oauth2server.ValidPKCEString(tc.given))
		})
	}
}

// TestAuthorizationCodeGrant covers ..R-57, R-59, R-61 with
// codes saved straight into the model.
func TestAuthorizationCodeGrant(t *testing.T) {
	type code = oauth2server.AuthorizationCode
	var testCases = []struct {
		name         string
		givenOpts    func(*oauth2server.Options)
		givenCode    code
		givenPublic  bool
		givenParams  url.Values
		expectStatus int
		expectCode   string
		expectDesc   string
	}{
		{name: "ok, confidential client, S256 with the RFC 7636 Appendix B vector",
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256"},
			givenParams:  url.Values{"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}},
			expectStatus: 200},
		{name: "ok, public client with S256",
			givenCode:    code{ClientID: pubID, RedirectURI: testRedirect, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256"},
			givenPublic:  true,
			givenParams:  url.Values{"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}},
			expectStatus: 200},
		{name: "ok, confidential client without PKCE",
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect},
			givenParams:  url.Values{"redirect_uri": {testRedirect}},
			expectStatus: 200},
		{name: "ok, no redirect_uri in the authorization request nor here",
			givenCode:    code{ClientID: confID},
			givenParams:  url.Values{},
			expectStatus: 200},
		{name: "ok, plain when AllowPlainPKCE",
			givenOpts:    func(o *oauth2server.Options) { o.AllowPlainPKCE = true },
			givenCode:    code{ClientID: pubID, RedirectURI: testRedirect, CodeChallenge: oauth2server.RFC7636Verifier, CodeChallengeMethod: "plain"},
			givenPublic:  true,
			givenParams:  url.Values{"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}},
			expectStatus: 200},
		{name: "nok, plain refused by default (R-59)",
			givenCode:    code{ClientID: pubID, RedirectURI: testRedirect, CodeChallenge: oauth2server.RFC7636Verifier, CodeChallengeMethod: "plain"},
			givenPublic:  true,
			givenParams:  url.Values{"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}},
			expectStatus: 400, expectCode: "invalid_grant"},
		{name: "nok, unknown challenge method (R-54)",
			givenCode:    code{ClientID: pubID, RedirectURI: testRedirect, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S512"},
			givenPublic:  true,
			givenParams:  url.Values{"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}},
			expectStatus: 400, expectCode: "invalid_grant"},
		{name: "nok, verifier missing (R-56)",
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256"},
			givenParams:  url.Values{"redirect_uri": {testRedirect}},
			expectStatus: 400, expectCode: "invalid_grant", expectDesc: "The code_verifier parameter is required for this code."},
		{name: "nok, verifier mismatch (R-56)",
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256"},
			givenParams:  url.Values{"redirect_uri": {testRedirect}, "code_verifier": {strings.Repeat("a", 43)}},
			expectStatus: 400, expectCode: "invalid_grant", expectDesc: "The code_verifier does not match the code_challenge."},
		{name: "nok, the challenge itself as verifier",
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256"},
			givenParams:  url.Values{"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Challenge}},
			expectStatus: 400, expectCode: "invalid_grant"},
		{name: "nok, verifier too short (R-59)",
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256"},
			givenParams:  url.Values{"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier[:42]}},
			expectStatus: 400, expectCode: "invalid_request", expectDesc: "The code_verifier is malformed (RFC 7636 section 4.1)."},
		{name: "nok, verifier with a forbidden character",
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256"},
			givenParams:  url.Values{"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier + "+"}},
			expectStatus: 400, expectCode: "invalid_request"},
		{name: "nok, PKCE downgrade (R-57)",
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect},
			givenParams:  url.Values{"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}},
			expectStatus: 400, expectCode: "invalid_grant", expectDesc: "A code_verifier was sent for a code issued without code_challenge."},
		{name: "nok, public client code without challenge (R-53)",
			givenCode:    code{ClientID: pubID, RedirectURI: testRedirect},
			givenPublic:  true,
			givenParams:  url.Values{"redirect_uri": {testRedirect}},
			expectStatus: 400, expectCode: "invalid_grant", expectDesc: "The code was issued without PKCE, which this client requires."},
		{name: "nok, RequirePKCE and a confidential client's code without challenge",
			givenOpts:    func(o *oauth2server.Options) { o.RequirePKCE = true },
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect},
			givenParams:  url.Values{"redirect_uri": {testRedirect}},
			expectStatus: 400, expectCode: "invalid_grant"},
		{name: "nok, redirect_uri mismatch (R-36)",
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect},
			givenParams:  url.Values{"redirect_uri": {testRedirect + "/"}},
			expectStatus: 400, expectCode: "invalid_grant", expectDesc: "The redirect_uri does not match the one of the authorization request."},
		{name: "nok, redirect_uri differs only in case (R-30)",
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect},
			givenParams:  url.Values{"redirect_uri": {strings.ToUpper(testRedirect)}},
			expectStatus: 400, expectCode: "invalid_grant"},
		{name: "nok, redirect_uri absent but in the authorization request (R-36)",
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect},
			givenParams:  url.Values{},
			expectStatus: 400, expectCode: "invalid_grant"},
		{name: "nok, redirect_uri present but not in the authorization request",
			givenCode:    code{ClientID: confID},
			givenParams:  url.Values{"redirect_uri": {testRedirect}},
			expectStatus: 400, expectCode: "invalid_grant"},
		{name: "nok, code of another client (R-50)",
			givenCode:    code{ClientID: otherID, RedirectURI: testRedirect},
			givenParams:  url.Values{"redirect_uri": {testRedirect}},
			expectStatus: 400, expectCode: "invalid_grant", expectDesc: "The authorization code is invalid, expired, or was already used."},
		{name: "nok, public client presents a confidential client's code (R-50)",
			givenCode:    code{ClientID: confID, RedirectURI: testRedirect, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256"},
			givenPublic:  true,
			givenParams:  url.Values{"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}},
			expectStatus: 400, expectCode: "invalid_grant"},
		{name: "nok, public clients refused by RequireClientAuthentication",
			givenOpts: func(o *oauth2server.Options) {
				o.RequireClientAuthentication = map[string]bool{oauth2server.GrantAuthorizationCode: true}
			},
			givenCode:    code{ClientID: pubID, RedirectURI: testRedirect, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256"},
			givenPublic:  true,
			givenParams:  url.Values{"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}},
			expectStatus: 400, expectCode: "unauthorized_client"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, withOptions(tc.givenOpts))
			c := tc.givenCode
			c.Code = "code-" + strings.ReplaceAll(tc.name, " ", "-")
			c.Scope = []string{"read", "write"}
			c.UserID = "u-alice"
			c.GrantID = "grant-1"
			env.saveCode(&c)
			tc.givenParams.Set("grant_type", "authorization_code")
			tc.givenParams.Set("code", c.Code)
			var r answer
			if tc.givenPublic {
				r = env.pubToken(tc.givenParams)
			} else {
				r = env.confToken(tc.givenParams)
			}
			if tc.expectStatus != 200 {
				requireError(t, r, tc.expectStatus, tc.expectCode, false)
				if tc.expectDesc != "" {
					assert.Equal(t, tc.expectDesc, r.body["error_description"])
				}
				// A refused request never burns the code for its owner.
				stored, err := env.model.GetAuthorizationCode(context.Background(), c.Code)
				require.NoError(t, err)
				assert.False(t, stored.Revoked, "refused request consumed the code")
				return
			}
			requireOK(t, r)
			assert.Equal(t, "read write", r.body["scope"])
			assert.NotEmpty(t, r.body["refresh_token"])
			tok := env.accessToken(str(r.body["access_token"]))
			assert.Equal(t, c.ClientID, tok.ClientID)
			assert.Equal(t, "u-alice", tok.UserID)
			assert.Equal(t, "grant-1", tok.GrantID)
			assert.Equal(t, str(r.body["refresh_token"]), tok.RefreshToken)
		})
	}
}

// an expired code is refused.
func TestAuthorizationCodeExpired(t *testing.T) {
	env := newTestEnv(t)
	env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: confID, ExpiresAt: env.clock.Now().Add(60 * time.Second)})
	env.clock.Advance(60 * time.Second)
	r := env.confToken(url.Values{"grant_type": {"authorization_code"}, "code": {"c"}})
	requireError(t, r, http.StatusBadRequest, "invalid_grant", false)
	assert.Equal(t, "The authorization code is invalid, expired, or was already used.", r.body["error_description"])
}

// a replayed code is refused and every token issued from it, also
// through later refreshes, is revoked.
func TestAuthorizationCodeReplayRevokesTokens(t *testing.T) {
	for _, grantID := range []string{"grant-7", ""} {
		t.Run("grant id "+grantID, func(t *testing.T) {
			env := newTestEnv(t)
			env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: confID, RedirectURI: testRedirect,
				CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256", GrantID: grantID, Scope: []string{"read"}})
			params := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}}
			first := env.confToken(params)
			requireOK(t, first)
			refreshed := env.confToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(first.body["refresh_token"])}})
			requireOK(t, refreshed)
			require.False(t, env.accessToken(str(refreshed.body["access_token"])).Revoked)

			replay := env.confToken(params)
			requireError(t, replay, http.StatusBadRequest, "invalid_grant", false)
			assert.True(t, env.accessToken(str(first.body["access_token"])).Revoked)
			assert.True(t, env.refreshToken(str(first.body["refresh_token"])).Revoked)
			assert.True(t, env.accessToken(str(refreshed.body["access_token"])).Revoked)
			assert.True(t, env.refreshToken(str(refreshed.body["refresh_token"])).Revoked)

			again := env.confToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(refreshed.body["refresh_token"])}})
			requireError(t, again, http.StatusBadRequest, "invalid_grant", false)
		})
	}
	t.Run("replay by another client revokes nothing", func(t *testing.T) {
		env := newTestEnv(t)
		env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: confID, GrantID: "g"})
		first := env.confToken(url.Values{"grant_type": {"authorization_code"}, "code": {"c"}})
		requireOK(t, first)
		other := env.do(tokenReq{body: "grant_type=authorization_code&code=c", auth: basic(otherID, otherSecret)})
		requireError(t, other, http.StatusBadRequest, "invalid_grant", false)
		assert.False(t, env.accessToken(str(first.body["access_token"])).Revoked)
	})
}

// R-70..R-73: refresh token rotation, reuse detection and scope rules.
func TestRefreshTokenGrant(t *testing.T) {
	issue := func(env *testEnv, public bool) answer {
		env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: map[bool]string{true: pubID, false: confID}[public],
			CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256", Scope: []string{"read", "write"}, UserID: "u-alice", GrantID: "fam"})
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
		assert.Equal(t, "u-alice", tok.UserID)
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

// RFC 6749 §4.5: an extension grant registered by its URI.
func TestExtensionGrant(t *testing.T) {
	var seen *oauth2server.TokenRequest
	handler := oauth2server.ExtensionGrantFunc(func(_ context.Context, req *oauth2server.TokenRequest) (*oauth2server.GrantResult, error) {
		seen = req
		switch req.Params["assertion"] {
		case "good":
			return &oauth2server.GrantResult{User: &oauth2server.User{ID: "u-ext"}, Scope: req.Scope, IssueRefreshToken: true}, nil
		case "nil":
			return nil, nil
		case "fault":
			return nil, stderrors.New("upstream idp: connection refused")
		default:
			return nil, oautherrors.ErrInvalidGrant.WithDescription("The assertion is invalid.")
		}
	})
	env := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
		o.ExtensionGrants = map[string]oauth2server.ExtensionGrant{extGrant: handler}
	}))
	assert.True(t, env.srv.GrantEnabled(extGrant))
	assert.Contains(t, env.srv.GrantTypes(), extGrant)

	t.Run("ok, tokens issued", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {extGrant}, "assertion": {"good"}, "scope": {"read"}})
		requireOK(t, r)
		assert.Equal(t, "read", r.body["scope"])
		assert.NotEmpty(t, r.body["refresh_token"])
		assert.Equal(t, "u-ext", env.accessToken(str(r.body["access_token"])).UserID)
		require.NotNil(t, seen)
		assert.Equal(t, extGrant, seen.GrantType)
		assert.Equal(t, confID, seen.Client.ID)
		assert.NotNil(t, seen.HTTPRequest)
	})
	t.Run("nok, scope beyond the client's", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {extGrant}, "assertion": {"good"}, "scope": {"root"}})
		requireError(t, r, http.StatusBadRequest, "invalid_scope", false)
	})
	t.Run("nok, the grant's own error", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {extGrant}, "assertion": {"bad"}})
		requireError(t, r, http.StatusBadRequest, "invalid_grant", false)
		assert.Equal(t, "The assertion is invalid.", r.body["error_description"])
	})
	t.Run("nok, nil result", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {extGrant}, "assertion": {"nil"}})
		requireError(t, r, http.StatusBadRequest, "invalid_grant", false)
	})
	t.Run("nok, a fault is server_error without its text", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {extGrant}, "assertion": {"fault"}})
		requireError(t, r, http.StatusServiceUnavailable, "server_error", false)
		assert.NotContains(t, r.raw, "upstream")
	})
	t.Run("nok, public clients refused by default", func(t *testing.T) {
		env.t = t
		r := env.pubToken(url.Values{"grant_type": {extGrant}, "assertion": {"good"}})
		requireError(t, r, http.StatusBadRequest, "unauthorized_client", false)
	})
}

// node's allowExtendedTokenAttributes: Token.Extra appears in the response
// only when enabled and never replaces or adds a standard member.
func TestAllowExtendedTokenAttributes(t *testing.T) {
	handler := oauth2server.ExtensionGrantFunc(func(_ context.Context, req *oauth2server.TokenRequest) (*oauth2server.GrantResult, error) {
		return &oauth2server.GrantResult{Scope: []string{"read"}, Extra: map[string]any{
			"id_token": "xyz", "tenant": 42.0,
			"access_token": "evil", "token_type": "evil", "expires_in": "evil",
			"refresh_token": "evil", "scope": "evil",
		}}, nil
	})
	for _, allow := range []bool{true, false} {
		env := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
			o.ExtensionGrants = map[string]oauth2server.ExtensionGrant{extGrant: handler}
			o.AllowExtendedTokenAttributes = allow
		}))
		for _, transport := range []func(tokenReq) answer{env.do, env.serve} {
			r := transport(tokenReq{body: url.Values{"grant_type": {extGrant}}.Encode(), auth: basic(confID, confSecret)})
			requireOK(t, r)
			assert.NotEqual(t, "evil", r.body["access_token"])
			assert.Equal(t, "Bearer", r.body["token_type"])
			assert.EqualValues(t, 3600, r.body["expires_in"])
			assert.Equal(t, "read", r.body["scope"])
			assert.NotContains(t, r.body, "refresh_token", "no refresh token was issued")
			if allow {
				assert.Equal(t, "xyz", r.body["id_token"])
				assert.EqualValues(t, 42, r.body["tenant"])
			} else {
				assert.NotContains(t, r.body, "id_token")
				assert.NotContains(t, r.body, "tenant")
			}
		}
	}
}
