package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/internal/optest"
)

const (
	formContentType = "application/x-www-form-urlencoded"
	spaOrigin       = "https://spa.example"
)

func bearerHeader(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// the UserInfo endpoint answers GET and POST with the
// claims the token's scope releases, and every error per RFC 6750 §3 with
// its challenge, no-store, never CORS.
func TestUserInfo(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) { t.Errorf("Echo's error handler called with %v", err) }
	e.Any("/userinfo", handlers.UserInfo(f.Srv))
	alice := optest.AliceClaims
	const realm = `Bearer realm="oauth2server"`

	var testCases = []struct {
		name            string
		when            optest.Request
		expectStatus    int
		expectChallenge string
		expectBody      string
		expectAllow     string
	}{
		{name: "ok, GET with the Authorization header",
			when:         optest.Request{Method: http.MethodGet, Target: "/userinfo", Header: bearerHeader(optest.TokOpenID)},
			expectStatus: http.StatusOK, expectBody: alice},
		{name: "ok, POST with the Authorization header",
			when:         optest.Request{Method: http.MethodPost, Target: "/userinfo", Header: bearerHeader(optest.TokOpenID)},
			expectStatus: http.StatusOK, expectBody: alice},
		{name: "ok, POST with the token in a form body",
			when:         optest.Request{Method: http.MethodPost, Target: "/userinfo", ContentType: formContentType, Body: "access_token=" + optest.TokOpenID},
			expectStatus: http.StatusOK, expectBody: alice},
		{name: "nok, header and body at once",
			when: optest.Request{Method: http.MethodPost, Target: "/userinfo", Header: bearerHeader(optest.TokOpenID),
				ContentType: formContentType, Body: "access_token=" + optest.TokOpenID},
			expectStatus:    http.StatusBadRequest,
			expectChallenge: realm + `, error="invalid_request", error_description="The request uses more than one method to send the access token."`,
			expectBody:      `{"error":"invalid_request","error_description":"The request uses more than one method to send the access token."}`},
		{name: "nok, no token is a bare challenge",
			when:         optest.Request{Method: http.MethodGet, Target: "/userinfo"},
			expectStatus: http.StatusUnauthorized, expectChallenge: realm,
			expectBody: `{"error_description":"The request has no bearer access token."}`},
		{name: "nok, a query token is no token",
			when:         optest.Request{Method: http.MethodGet, Target: "/userinfo?access_token=" + optest.TokOpenID},
			expectStatus: http.StatusUnauthorized, expectChallenge: realm,
			expectBody: `{"error_description":"The request has no bearer access token."}`},
		{name: "nok, a GET body is not read",
			when:         optest.Request{Method: http.MethodGet, Target: "/userinfo", ContentType: formContentType, Body: "access_token=" + optest.TokOpenID},
			expectStatus: http.StatusUnauthorized, expectChallenge: realm,
			expectBody: `{"error_description":"The request has no bearer access token."}`},
		{name: "nok, a token without openid is insufficient_scope",
			when:            optest.Request{Method: http.MethodGet, Target: "/userinfo", Header: bearerHeader(optest.TokPlain)},
			expectStatus:    http.StatusForbidden,
			expectChallenge: realm + `, error="insufficient_scope", error_description="The access token does not have the scope this resource requires.", scope="openid"`,
			expectBody:      `{"error":"insufficient_scope","error_description":"The access token does not have the scope this resource requires."}`},
		{name: "nok, an unknown token",
			when:         optest.Request{Method: http.MethodGet, Target: "/userinfo", Header: bearerHeader("nope")},
			expectStatus: http.StatusUnauthorized, expectChallenge: realm + `, error="invalid_token"`},
		{name: "nok, an expired token",
			when:         optest.Request{Method: http.MethodGet, Target: "/userinfo", Header: bearerHeader(optest.TokExpired)},
			expectStatus: http.StatusUnauthorized, expectChallenge: realm + `, error="invalid_token"`},
		{name: "nok, the user was deleted",
			when:            optest.Request{Method: http.MethodPost, Target: "/userinfo", Header: bearerHeader(optest.TokGhost)},
			expectStatus:    http.StatusUnauthorized,
			expectChallenge: realm + `, error="invalid_token", error_description="The user of the access token no longer exists."`,
			expectBody:      `{"error":"invalid_token","error_description":"The user of the access token no longer exists."}`},
		{name: "nok, a malformed header",
			when:         optest.Request{Method: http.MethodGet, Target: "/userinfo", Header: http.Header{"Authorization": {"Bearer a b"}}},
			expectStatus: http.StatusBadRequest, expectChallenge: realm + `, error="invalid_request"`},
		{name: "nok, PUT is 405",
			when:         optest.Request{Method: http.MethodPut, Target: "/userinfo", Header: bearerHeader(optest.TokOpenID)},
			expectStatus: http.StatusMethodNotAllowed, expectChallenge: realm + `, error="invalid_request"`,
			expectAllow: "GET, HEAD, POST"},
		{name: "nok, OPTIONS without CORS is 405",
			when: optest.Request{Method: http.MethodOptions, Target: "/userinfo",
				Header: http.Header{"Origin": {spaOrigin}, "Access-Control-Request-Method": {"GET"}}},
			expectStatus: http.StatusMethodNotAllowed, expectChallenge: realm + `, error="invalid_request"`,
			expectAllow: "GET, HEAD, POST"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			tc.when.Header = tc.when.Header.Clone()
			if tc.when.Header == nil {
				tc.when.Header = http.Header{}
			}
			if tc.when.Header.Get("Origin") == "" {
				tc.when.Header.Set("Origin", spaOrigin) // never answered with CORS here
			}
			rec := tc.when.Serve(e)

			require.Equal(t, tc.expectStatus, rec.Code, rec.Body.String())
			h := rec.Header()
			assert.Equal(t, []string{"no-store"}, h.Values("Cache-Control"))
			assert.Equal(t, []string{"no-cache"}, h.Values("Pragma"))
			assert.Equal(t, []string{"application/json"}, h.Values("Content-Type"))
			if tc.expectChallenge == "" {
				assert.Empty(t, h.Values("WWW-Authenticate"))
			} else if strings.Contains(tc.expectChallenge, "error_description") || !strings.Contains(tc.expectChallenge, "error=") {
				assert.Equal(t, tc.expectChallenge, h.Get("WWW-Authenticate"))
			} else {
				assert.True(t, strings.HasPrefix(h.Get("WWW-Authenticate"), tc.expectChallenge), h.Get("WWW-Authenticate"))
			}
			assert.Equal(t, tc.expectAllow, h.Get("Allow"))
			for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Vary"} {
				assert.Empty(t, h.Values(k), k)
			}
			if tc.expectBody != "" {
				assert.JSONEq(t, tc.expectBody, rec.Body.String())
			}
			var body map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			if tc.expectStatus == http.StatusOK {
				assert.Equal(t, "alice", body["sub"])
				assert.NotContains(t, body, "phone_number", "the phone scope was not granted (R-134)")
			} else {
				assert.NotContains(t, body, "sub")
			}
		})
	}
}

// CORS is off by default (above) and opt-in per exact origin: the answer
// names the origin, exposes the challenge, and never allows credentials.
func TestUserInfoCORS(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	e := echo.New()
	e.Any("/userinfo", handlers.UserInfoWithConfig(handlers.UserInfoConfig{Server: f.Srv,
		AllowOrigins: []string{spaOrigin, "http://localhost:3000"}}))

	var testCases = []struct {
		name          string
		when          optest.Request
		expectStatus  int
		expectHeaders map[string]string // "" for absent
	}{
		{name: "ok, GET from an allowed origin",
			when: optest.Request{Method: http.MethodGet, Target: "/userinfo",
				Header: http.Header{"Authorization": {"Bearer " + optest.TokOpenID}, "Origin": {spaOrigin}}},
			expectStatus: http.StatusOK,
			expectHeaders: map[string]string{"Access-Control-Allow-Origin": spaOrigin, "Access-Control-Expose-Headers": "WWW-Authenticate",
				"Vary": "Origin", "Access-Control-Allow-Methods": ""}},
		{name: "ok, an error to an allowed origin is readable too",
			when: optest.Request{Method: http.MethodGet, Target: "/userinfo",
				Header: http.Header{"Authorization": {"Bearer nope"}, "Origin": {"http://localhost:3000"}}},
			expectStatus: http.StatusUnauthorized,
			expectHeaders: map[string]string{"Access-Control-Allow-Origin": "http://localhost:3000",
				"Access-Control-Expose-Headers": "WWW-Authenticate", "Vary": "Origin"}},
		{name: "ok, preflight from an allowed origin",
			when: optest.Request{Method: http.MethodOptions, Target: "/userinfo", Header: http.Header{"Origin": {spaOrigin},
				"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"authorization"}}},
			expectStatus: http.StatusNoContent,
			expectHeaders: map[string]string{"Access-Control-Allow-Origin": spaOrigin, "Access-Control-Allow-Methods": "GET, POST",
				"Access-Control-Allow-Headers": "Authorization, Content-Type", "Vary": "Origin",
				"Allow": "GET, HEAD, POST, OPTIONS", "WWW-Authenticate": ""}},
		{name: "nok, GET from another origin gets no CORS",
			when: optest.Request{Method: http.MethodGet, Target: "/userinfo",
				Header: http.Header{"Authorization": {"Bearer " + optest.TokOpenID}, "Origin": {"https://evil.example"}}},
			expectStatus: http.StatusOK,
			expectHeaders: map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Expose-Headers": "",
				"Vary": "Origin"}},
		{name: "nok, an origin differing in case or port is another origin",
			when: optest.Request{Method: http.MethodGet, Target: "/userinfo",
				Header: http.Header{"Authorization": {"Bearer " + optest.TokOpenID}, "Origin": {"https://spa.example:8443"}}},
			expectStatus:  http.StatusOK,
			expectHeaders: map[string]string{"Access-Control-Allow-Origin": ""}},
		{name: "nok, preflight from another origin",
			when: optest.Request{Method: http.MethodOptions, Target: "/userinfo", Header: http.Header{"Origin": {"https://evil.example"},
				"Access-Control-Request-Method": {"GET"}}},
			expectStatus: http.StatusNoContent,
			expectHeaders: map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": "",
				"Access-Control-Allow-Headers": "", "Vary": "Origin", "Allow": "GET, HEAD, POST, OPTIONS"}},
		{name: "ok, a plain OPTIONS lists the methods",
			when:          optest.Request{Method: http.MethodOptions, Target: "/userinfo"},
			expectStatus:  http.StatusNoContent,
			expectHeaders: map[string]string{"Allow": "GET, HEAD, POST, OPTIONS", "Access-Control-Allow-Methods": ""}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			rec := tc.when.Serve(e)
			require.Equal(t, tc.expectStatus, rec.Code, rec.Body.String())
			for k, v := range tc.expectHeaders {
				if v == "" {
					assert.Empty(t, rec.Header().Values(k), k)
				} else {
					assert.Equal(t, []string{v}, rec.Header().Values(k), k)
				}
			}
			assert.Empty(t, rec.Header().Values("Access-Control-Allow-Credentials"), "never with credentials")
			if tc.expectStatus == http.StatusNoContent {
				assert.Empty(t, rec.Body.String())
			}
		})
	}
}

func TestUserInfoConfig(t *testing.T) {
	t.Parallel()
	op := optest.New(t, nil)
	plain := newServer(t, oauth2server.Options{Issuer: testIssuer})
	var testCases = []struct {
		name        string
		givenConfig handlers.UserInfoConfig
		expectErr   string
	}{
		{name: "ok", givenConfig: handlers.UserInfoConfig{Server: op.Srv, AllowOrigins: []string{"https://a.example", "http://[::1]:8080"}}},
		{name: "nok, no Server", expectErr: "handlers: UserInfoConfig.Server is required"},
		{name: "nok, not an OpenID Provider", givenConfig: handlers.UserInfoConfig{Server: plain},
			expectErr: "handlers: the UserInfo endpoint needs an OpenID Provider (Options.OpenID)"},
		{name: "nok, wildcard origin", givenConfig: handlers.UserInfoConfig{Server: op.Srv, AllowOrigins: []string{"*"}},
			expectErr: `"*" is not an origin`},
		{name: "nok, origin with a path", givenConfig: handlers.UserInfoConfig{Server: op.Srv, AllowOrigins: []string{"https://a.example/"}},
			expectErr: `"https://a.example/" is not an origin`},
		{name: "nok, origin in upper case", givenConfig: handlers.UserInfoConfig{Server: op.Srv, AllowOrigins: []string{"https://A.example"}},
			expectErr: "is not an origin"},
		{name: "nok, null origin", givenConfig: handlers.UserInfoConfig{Server: op.Srv, AllowOrigins: []string{"null"}},
			expectErr: "is not an origin"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := tc.givenConfig.ToHandler()
			if tc.expectErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.expectErr)
				assert.Nil(t, h)
				assert.Panics(t, func() { handlers.UserInfoWithConfig(tc.givenConfig) })
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, h)
		})
	}
	assert.Panics(t, func() { handlers.UserInfo(plain) })
}
