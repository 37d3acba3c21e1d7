package nethttp_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server/internal/optest"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

const spaOrigin = "https://spa.example"

// the UserInfo endpoint on a ServeMux, without and with
// CORS; TestOpenIDParityWithEcho holds it to package handlers' answers.
func TestUserInfo(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	mux := http.NewServeMux()
	mux.Handle("/userinfo", nethttp.UserInfo(f.Srv))
	mux.Handle("/cors/userinfo", nethttp.UserInfoWithConfig(nethttp.UserInfoConfig{Server: f.Srv, AllowOrigins: []string{spaOrigin}}))
	bearer := func(tok string) http.Header {
		return http.Header{"Authorization": {"Bearer " + tok}, "Origin": {spaOrigin}}
	}
	const realm = `Bearer realm="oauth2server"`

	var testCases = []struct {
		name            string
		when            optest.Request
		expectStatus    int
		expectChallenge string
		expectBody      string
		expectCORS      bool
	}{
		{name: "ok, GET", when: optest.Request{Method: http.MethodGet, Target: "/userinfo", Header: bearer(optest.TokOpenID)},
			expectStatus: http.StatusOK, expectBody: optest.AliceClaims},
		{name: "ok, POST with a form body", when: optest.Request{Method: http.MethodPost, Target: "/userinfo",
			ContentType: formType, Body: "access_token=" + optest.TokOpenID},
			expectStatus: http.StatusOK, expectBody: optest.AliceClaims},
		{name: "nok, two methods", when: optest.Request{Method: http.MethodPost, Target: "/userinfo", Header: bearer(optest.TokOpenID),
			ContentType: formType, Body: "access_token=" + optest.TokOpenID},
			expectStatus:    http.StatusBadRequest,
			expectChallenge: realm + `, error="invalid_request", error_description="The request uses more than one method to send the access token."`},
		{name: "nok, no token", when: optest.Request{Method: http.MethodGet, Target: "/userinfo"},
			expectStatus: http.StatusUnauthorized, expectChallenge: realm,
			expectBody: `{"error_description":"The request has no bearer access token."}`},
		{name: "nok, no openid", when: optest.Request{Method: http.MethodGet, Target: "/userinfo", Header: bearer(optest.TokPlain)},
			expectStatus:    http.StatusForbidden,
			expectChallenge: realm + `, error="insufficient_scope", error_description="The access token does not have the scope this resource requires.", scope="openid"`},
		{name: "nok, unknown token", when: optest.Request{Method: http.MethodGet, Target: "/userinfo", Header: bearer("nope")},
			expectStatus: http.StatusUnauthorized, expectChallenge: realm + `, error="invalid_token", error_description="The access token is unknown."`},
		{name: "nok, user deleted", when: optest.Request{Method: http.MethodGet, Target: "/userinfo", Header: bearer(optest.TokGhost)},
			expectStatus:    http.StatusUnauthorized,
			expectChallenge: realm + `, error="invalid_token", error_description="The user of the access token no longer exists."`,
			expectBody:      `{"error":"invalid_token","error_description":"The user of the access token no longer exists."}`},
		{name: "ok, CORS for an allowed origin", when: optest.Request{Method: http.MethodGet, Target: "/cors/userinfo", Header: bearer(optest.TokOpenID)},
			expectStatus: http.StatusOK, expectBody: optest.AliceClaims, expectCORS: true},
		{name: "ok, preflight", when: optest.Request{Method: http.MethodOptions, Target: "/cors/userinfo",
			Header: http.Header{"Origin": {spaOrigin}, "Access-Control-Request-Method": {"GET"}}},
			expectStatus: http.StatusNoContent, expectCORS: true},
		{name: "nok, OPTIONS without CORS", when: optest.Request{Method: http.MethodOptions, Target: "/userinfo",
			Header: http.Header{"Origin": {spaOrigin}, "Access-Control-Request-Method": {"GET"}}},
			expectStatus: http.StatusMethodNotAllowed, expectChallenge: realm + `, error="invalid_request", error_description="The UserInfo endpoint accepts GET, HEAD and POST only."`},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			rec := tc.when.Serve(mux)
			require.Equal(t, tc.expectStatus, rec.Code, rec.Body.String())
			h := rec.Header()
			assert.Equal(t, tc.expectChallenge, h.Get("WWW-Authenticate"))
			if tc.expectBody != "" {
				assert.JSONEq(t, tc.expectBody, rec.Body.String())
			}
			if tc.expectStatus != http.StatusNoContent {
				assert.Equal(t, "no-store", h.Get("Cache-Control"))
				assert.Equal(t, "application/json", h.Get("Content-Type"))
			}
			if tc.expectCORS {
				assert.Equal(t, spaOrigin, h.Get("Access-Control-Allow-Origin"))
			} else {
				assert.Empty(t, h.Get("Access-Control-Allow-Origin"))
			}
			if tc.when.Method == http.MethodOptions && tc.expectCORS {
				assert.Equal(t, "GET, POST", h.Get("Access-Control-Allow-Methods"))
				assert.Equal(t, "Authorization, Content-Type", h.Get("Access-Control-Allow-Headers"))
			}
			assert.Empty(t, h.Get("Access-Control-Allow-Credentials"))
		})
	}
}

func TestUserInfoConfigErrors(t *testing.T) {
	t.Parallel()
	plain, _, _ := newAuthzServer(t)
	_, err := nethttp.UserInfoConfig{}.ToHandler()
	assert.EqualError(t, err, "nethttp: UserInfoConfig.Server is required")
	_, err = nethttp.UserInfoConfig{Server: plain}.ToHandler()
	assert.EqualError(t, err, "nethttp: the UserInfo endpoint needs an OpenID Provider (Options.OpenID)")
	op := optest.New(t, nil)
	_, err = nethttp.UserInfoConfig{Server: op.Srv, AllowOrigins: []string{"https://*.example"}}.ToHandler()
	assert.ErrorContains(t, err, `nethttp: UserInfoConfig.AllowOrigins: "https://*.example" is not an origin`)
	assert.Panics(t, func() { nethttp.UserInfo(plain) })
}
