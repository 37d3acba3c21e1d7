package handlers_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/internal/optest"
)

// getDocument GETs a JSON document and checks its caching headers.
func getDocument(t *testing.T, h http.Handler, path string) map[string]any {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, handlers.MetadataCacheControl, rec.Header().Get("Cache-Control"))
	assert.NotContains(t, rec.Body.String(), "null")
	assert.NotContains(t, rec.Body.String(), "[]")
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
	return m
}

// jwtClaims decodes the claims of a JWT without verifying it.
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(b, &c))
	return c
}

// the OpenID Provider configuration is the RFC 8414
// metadata of the same endpoints plus the OpenID Connect members, with the
// issuer of every ID token, and lists only what is enabled and mounted.
func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	full := oauth2server.Endpoints{Authorization: testIssuer + "/authorize", Token: testIssuer + "/token",
		Revocation: testIssuer + "/revoke", JWKS: testIssuer + "/jwks.json",
		UserInfo: testIssuer + "/userinfo", EndSession: testIssuer + "/end_session"}
	e := echo.New()
	e.GET("/.well-known/openid-configuration", handlers.OpenIDConfigurationWithConfig(
		handlers.OpenIDConfigurationConfig{Server: f.Srv, Endpoints: full}))
	e.GET("/.well-known/oauth-authorization-server", handlers.MetadataWithConfig(
		handlers.MetadataConfig{Server: f.Srv, Endpoints: full}))
	noLogout := full
	noLogout.EndSession = ""
	e.GET("/minimal/.well-known/openid-configuration", handlers.OpenIDConfigurationWithConfig(
		handlers.OpenIDConfigurationConfig{Server: f.Srv, Endpoints: noLogout}))

	oidc := getDocument(t, e, "/.well-known/openid-configuration")
	rfc8414 := getDocument(t, e, "/.well-known/oauth-authorization-server")
	assert.Equal(t, rfc8414, oidc, "one document: the two never disagree")
	assert.Equal(t, testIssuer, oidc["issuer"])
	assert.Equal(t, oidc["issuer"], jwtClaims(t, f.IDToken(optest.Client, optest.Alice))["iss"], "R-119: iss of the ID tokens")
	for k, v := range map[string]any{
		"authorization_endpoint":                testIssuer + "/authorize",
		"token_endpoint":                        testIssuer + "/token",
		"jwks_uri":                              testIssuer + "/jwks.json",
		"userinfo_endpoint":                     testIssuer + "/userinfo",
		"end_session_endpoint":                  testIssuer + "/end_session",
		"response_types_supported":              []any{"code"},
		"response_modes_supported":              []any{"query", "form_post"},
		"subject_types_supported":               []any{"public"},
		"id_token_signing_alg_values_supported": []any{"RS256"},
		"scopes_supported":                      []any{"openid", "profile", "email", "address", "phone", "offline_access"},
		"claims_parameter_supported":            true,
		"request_parameter_supported":           false,
		"request_uri_parameter_supported":       false,
		"code_challenge_methods_supported":      []any{"S256"},
	} {
		assert.Equal(t, v, oidc[k], k)
	}
	assert.Contains(t, oidc["claims_supported"], "sub")
	assert.Contains(t, oidc["claims_supported"], "email_verified")
	for _, absent := range []string{"introspection_endpoint", "device_authorization_endpoint", "acr_values_supported"} {
		assert.NotContains(t, oidc, absent, "not mounted or not enabled")
	}

	minimal := getDocument(t, e, "/minimal/.well-known/openid-configuration")
	assert.NotContains(t, minimal, "end_session_endpoint", "not mounted, not listed")
	assert.Equal(t, testIssuer+"/userinfo", minimal["userinfo_endpoint"])

	pairwise := optest.New(t, func(o *oauth2server.Options) {
		o.OpenID = &oauth2server.OpenIDOptions{PairwiseSubjectKey: []byte(strings.Repeat("k", 32)), ACRValues: []string{"urn:mfa"}}
		o.Grants = []string{oauth2server.GrantAuthorizationCode}
	})
	m, err := handlers.OpenIDConfigurationConfig{Server: pairwise.Srv, Endpoints: full}.ToHandler()
	require.NoError(t, err)
	e.GET("/pairwise/.well-known/openid-configuration", m)
	doc := getDocument(t, e, "/pairwise/.well-known/openid-configuration")
	assert.Equal(t, []any{"public", "pairwise"}, doc["subject_types_supported"])
	assert.Equal(t, []any{"urn:mfa"}, doc["acr_values_supported"])
	assert.NotContains(t, doc["scopes_supported"], "offline_access", "no refresh_token grant")
}

func TestOpenIDConfigurationConfig(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	plain := newServer(t, oauth2server.Options{Issuer: testIssuer})
	ep := oauth2server.Endpoints{Authorization: testIssuer + "/authorize", Token: testIssuer + "/token", JWKS: testIssuer + "/jwks.json"}
	noJWKS := ep
	noJWKS.JWKS = ""
	insecure := ep
	insecure.UserInfo = "http://as.example/userinfo"
	var testCases = []struct {
		name        string
		givenConfig handlers.OpenIDConfigurationConfig
		expectErr   string
	}{
		{name: "ok", givenConfig: handlers.OpenIDConfigurationConfig{Server: f.Srv, Endpoints: ep}},
		{name: "nok, no Server", expectErr: "handlers: OpenIDConfigurationConfig.Server is required"},
		{name: "nok, not an OpenID Provider", givenConfig: handlers.OpenIDConfigurationConfig{Server: plain, Endpoints: ep},
			expectErr: "needs Options.OpenID"},
		{name: "nok, no JWKS endpoint", givenConfig: handlers.OpenIDConfigurationConfig{Server: f.Srv, Endpoints: noJWKS},
			expectErr: "needs the Authorization, Token and JWKS endpoints"},
		{name: "nok, an http endpoint", givenConfig: handlers.OpenIDConfigurationConfig{Server: f.Srv, Endpoints: insecure},
			expectErr: "must be an absolute https URL"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := tc.givenConfig.ToHandler()
			if tc.expectErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.expectErr)
				assert.Panics(t, func() { handlers.OpenIDConfigurationWithConfig(tc.givenConfig) })
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, h)
		})
	}
}

// The public documents may be read from any origin, without credentials:
// a browser-based relying party fetches them.
func TestPublicDocumentsAllowAnyOrigin(t *testing.T) {
	srv := optest.New(t, nil).Srv
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), srv, handlers.RegisterConfig{Root: e}))
	for _, path := range []string{"/jwks.json", oauth2server.WellKnownPath} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Origin", "https://spa.example")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, path)
		assert.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"), path)
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Credentials"), path)
	}
}
