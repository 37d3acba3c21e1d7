package oauth2server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

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
			c.UserID = aliceID
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
			assert.Equal(t, aliceID, tok.UserID)
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
