package handlers_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/internal/optest"
)

// opAuthorize is an authorization endpoint configuration for an OpenID
// Provider.
func opAuthorize() *handlers.AuthorizeConfig {
	return &handlers.AuthorizeConfig{UserFromRequest: userFromHeader,
		AuthenticationFromRequest: func(echo.Context) (oauth2server.Authentication, error) {
			return oauth2server.Authentication{Time: optest.Now}, nil
		}}
}

func opLogout() *handlers.EndSessionConfig {
	return &handlers.EndSessionConfig{Logout: func(echo.Context, *oauth2server.EndSessionRequest) error { return nil }}
}

// pathOf returns the path of an absolute URL.
func pathOf(t *testing.T, u any) string {
	t.Helper()
	s, ok := u.(string)
	require.True(t, ok, "%v is a URL", u)
	p, err := url.Parse(s)
	require.NoError(t, err)
	return p.Path
}

// with OpenID Connect on, Register mounts
// UserInfo, end session (when configured), the JWK Set of the ID token
// keys although access tokens are opaque, and Discovery after the issuer's
// path; both metadata documents list the same endpoints, each of which
// answers where it is listed.
func TestRegisterOpenID(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	require.False(t, f.Srv.IssuesJWT(), "opaque access tokens")
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), f.Srv, handlers.RegisterConfig{
		Authorize: opAuthorize(), EndSession: opLogout(),
		UserInfo: &handlers.UserInfoConfig{AllowOrigins: []string{spaOrigin}}}))

	oidc := getDocument(t, e, "/.well-known/openid-configuration")
	assert.Equal(t, getDocument(t, e, "/.well-known/oauth-authorization-server"), oidc, "R-97: the same endpoints")
	for k, v := range map[string]string{
		"issuer":                 testIssuer,
		"authorization_endpoint": testIssuer + "/authorize",
		"token_endpoint":         testIssuer + "/token",
		"jwks_uri":               testIssuer + "/jwks.json",
		"userinfo_endpoint":      testIssuer + "/userinfo",
		"end_session_endpoint":   testIssuer + "/end_session",
	} {
		assert.Equal(t, v, oidc[k], k)
	}

	jwks := optest.Request{Method: http.MethodGet, Target: pathOf(t, oidc["jwks_uri"])}.Serve(e)
	require.Equal(t, http.StatusOK, jwks.Code, "the ID token keys are published")
	assert.Contains(t, jwks.Body.String(), `"kty":"RSA"`)

	info := optest.Request{Method: http.MethodPost, Target: pathOf(t, oidc["userinfo_endpoint"]),
		Header: http.Header{"Authorization": {"Bearer " + optest.TokOpenID}}}.Serve(e)
	require.Equal(t, http.StatusOK, info.Code, info.Body.String())
	assert.JSONEq(t, optest.AliceClaims, info.Body.String())
	preflight := optest.Request{Method: http.MethodOptions, Target: "/userinfo",
		Header: http.Header{"Origin": {spaOrigin}, "Access-Control-Request-Method": {"GET"}}}.Serve(e)
	assert.Equal(t, http.StatusNoContent, preflight.Code, "mounted for every method, UserInfoConfig applied")
	assert.Equal(t, spaOrigin, preflight.Header().Get("Access-Control-Allow-Origin"))
	put := optest.Request{Method: http.MethodPut, Target: "/userinfo"}.Serve(e)
	assert.Equal(t, http.StatusMethodNotAllowed, put.Code)
	assert.Contains(t, put.Header().Get("WWW-Authenticate"), `error="invalid_request"`, "the endpoint's 405, not Echo's")

	hint := f.IDToken(optest.Client, optest.Alice)
	logout := optest.Request{Method: http.MethodGet, Target: pathOf(t, oidc["end_session_endpoint"]) + "?" + url.Values{
		"id_token_hint": {hint}, "post_logout_redirect_uri": {optest.LogoutURI}}.Encode()}.Serve(e)
	assert.Equal(t, http.StatusFound, logout.Code, logout.Body.String())
	assert.Equal(t, optest.LogoutURI, logout.Header().Get("Location"))
	del := optest.Request{Method: http.MethodDelete, Target: "/end_session"}.Serve(e)
	assert.Equal(t, http.StatusMethodNotAllowed, del.Code)
	assert.Equal(t, "GET, HEAD, POST", del.Header().Get("Allow"))

	authz := optest.Request{Method: http.MethodGet, Target: pathOf(t, oidc["authorization_endpoint"]) + "?response_type=code"}.Serve(e)
	assert.Equal(t, http.StatusBadRequest, authz.Code, "mounted: an error page, not 404")
}

// Without EndSession there is no logout endpoint, and none is listed.
func TestRegisterOpenIDWithoutEndSession(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), f.Srv, handlers.RegisterConfig{Authorize: opAuthorize(),
		UserInfoPath: "/oidc/userinfo"}))
	oidc := getDocument(t, e, "/.well-known/openid-configuration")
	assert.NotContains(t, oidc, "end_session_endpoint")
	assert.Equal(t, testIssuer+"/oidc/userinfo", oidc["userinfo_endpoint"])
	assert.Equal(t, http.StatusNotFound, optest.Request{Method: http.MethodGet, Target: "/end_session"}.Serve(e).Code)
	assert.Equal(t, http.StatusUnauthorized, optest.Request{Method: http.MethodGet, Target: "/oidc/userinfo"}.Serve(e).Code)
}

// Discovery follows the issuer's path, where RFC 8414 metadata
// precedes it: one group at the host root holds both, a group at the
// issuer's path needs Root for the RFC 8414 document only.
func TestRegisterOpenIDIssuerWithPath(t *testing.T) {
	t.Parallel()
	const issuer = "https://as.example/tenant"
	f := optest.New(t, func(o *oauth2server.Options) { o.Issuer = issuer })

	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), f.Srv, handlers.RegisterConfig{BaseURL: "https://as.example",
		Authorize: opAuthorize()}))
	oidc := getDocument(t, e, "/tenant/.well-known/openid-configuration")
	assert.Equal(t, issuer, oidc["issuer"], "R-136: the issuer the URL was built from")
	assert.Equal(t, oidc, getDocument(t, e, "/.well-known/oauth-authorization-server/tenant"))
	assert.Equal(t, "https://as.example/userinfo", oidc["userinfo_endpoint"])

	e = echo.New()
	err := handlers.Register(e.Group("/tenant"), f.Srv, handlers.RegisterConfig{Authorize: opAuthorize()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "RegisterConfig.Root")
	assert.Empty(t, e.Routes())
	require.NoError(t, handlers.Register(e.Group("/tenant"), f.Srv, handlers.RegisterConfig{Authorize: opAuthorize(), Root: e}))
	oidc = getDocument(t, e, "/tenant/.well-known/openid-configuration")
	assert.Equal(t, issuer+"/userinfo", oidc["userinfo_endpoint"])
	assert.Equal(t, http.StatusUnauthorized, optest.Request{Method: http.MethodGet, Target: "/tenant/userinfo"}.Serve(e).Code)
}

// A bad combination fails Register, and nothing is mounted.
func TestRegisterOpenIDErrors(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	other := optest.New(t, nil)
	plain := newServer(t, oauth2server.Options{Issuer: testIssuer})
	var testCases = []struct {
		name        string
		givenServer *oauth2server.Server
		givenConfig handlers.RegisterConfig
		expectError string
	}{
		{name: "nok, UserInfo of another Server", givenServer: f.Srv,
			givenConfig: handlers.RegisterConfig{Authorize: opAuthorize(), UserInfo: &handlers.UserInfoConfig{Server: other.Srv}},
			expectError: "RegisterConfig.UserInfo.Server is another Server"},
		{name: "nok, EndSession of another Server", givenServer: f.Srv,
			givenConfig: handlers.RegisterConfig{Authorize: opAuthorize(), EndSession: &handlers.EndSessionConfig{Server: other.Srv,
				Logout: opLogout().Logout}},
			expectError: "RegisterConfig.EndSession.Server is another Server"},
		{name: "nok, EndSession without Logout", givenServer: f.Srv,
			givenConfig: handlers.RegisterConfig{Authorize: opAuthorize(), EndSession: &handlers.EndSessionConfig{}},
			expectError: "handlers: EndSessionConfig.Logout is required"},
		{name: "nok, a bad UserInfo origin", givenServer: f.Srv,
			givenConfig: handlers.RegisterConfig{Authorize: opAuthorize(), UserInfo: &handlers.UserInfoConfig{AllowOrigins: []string{"*"}}},
			expectError: "is not an origin"},
		{name: "nok, AuthenticationFromRequest missing", givenServer: f.Srv,
			givenConfig: handlers.RegisterConfig{Authorize: &handlers.AuthorizeConfig{UserFromRequest: userFromHeader}},
			expectError: "AuthenticationFromRequest is required"},
		{name: "nok, EndSession without OpenID Connect", givenServer: plain,
			givenConfig: handlers.RegisterConfig{EndSession: opLogout()},
			expectError: "the end session endpoint needs an OpenID Provider"},
		{name: "nok, UserInfo without OpenID Connect", givenServer: plain,
			givenConfig: handlers.RegisterConfig{UserInfo: &handlers.UserInfoConfig{}},
			expectError: "the UserInfo endpoint needs an OpenID Provider"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			e := echo.New()
			err := handlers.Register(e.Group(""), tc.givenServer, tc.givenConfig)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.expectError)
			assert.Empty(t, e.Routes(), "nothing mounted")
		})
	}
}

// Discovery lists the authorization endpoint: with one mounted elsewhere,
// Register mounts the other OpenID Connect endpoints and the application
// mounts Discovery with every URL.
func TestRegisterOpenIDWithoutAuthorize(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), f.Srv, handlers.RegisterConfig{EndSession: opLogout()}))
	assert.Equal(t, http.StatusNotFound, optest.Request{Method: http.MethodGet, Target: "/.well-known/openid-configuration"}.Serve(e).Code)
	m, _ := metadata(t, e, "/.well-known/oauth-authorization-server")
	assert.Equal(t, testIssuer+"/userinfo", m["userinfo_endpoint"])
	assert.Equal(t, testIssuer+"/end_session", m["end_session_endpoint"])
	assert.Equal(t, testIssuer+"/jwks.json", m["jwks_uri"])
	assert.NotContains(t, m, "authorization_endpoint")
	assert.Equal(t, http.StatusOK, optest.Request{Method: http.MethodGet, Target: "/userinfo",
		Header: http.Header{"Authorization": {"Bearer " + optest.TokOpenID}}}.Serve(e).Code)
}

// Plain OAuth: no OpenID Connect endpoint, and no JWK Set without JWTs.
func TestRegisterWithoutOpenID(t *testing.T) {
	t.Parallel()
	srv := newServer(t, oauth2server.Options{Issuer: testIssuer})
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), srv, handlers.RegisterConfig{}))
	for _, path := range []string{"/userinfo", "/end_session", "/.well-known/openid-configuration", "/jwks.json"} {
		assert.Equal(t, http.StatusNotFound, optest.Request{Method: http.MethodGet, Target: path}.Serve(e).Code, path)
	}
	m, _ := metadata(t, e, "/.well-known/oauth-authorization-server")
	for _, absent := range []string{"userinfo_endpoint", "end_session_endpoint", "jwks_uri", "subject_types_supported"} {
		assert.NotContains(t, m, absent)
	}
}
