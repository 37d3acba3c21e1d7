package handlers_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

func newServer(t *testing.T, opts oauth2server.Options) *oauth2server.Server {
	t.Helper()
	m := memorymodel.New()
	require.NoError(t, m.AddClient(context.Background(), &oauth2server.Client{ID: "app", SecretHash: oauth2server.HashSecret("app-secret"),
		Grants: []string{"client_credentials"}, Scopes: []string{"read"}}))
	srv, err := oauth2server.New(m, opts)
	require.NoError(t, err)
	return srv
}

func jwtOptions(t *testing.T) oauth2server.Options {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return oauth2server.Options{Issuer: "https://as.example.com", Audience: "https://api.example.com",
		JWT:         &oauth2server.JWTOptions{},
		SigningKeys: []oauth2server.SigningKey{{PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}}}
}

func serveForm(e *echo.Echo, method, path string, body url.Values) *httptest.ResponseRecorder {
	var req *http.Request
	if body != nil {
		req = httptest.NewRequest(method, path, strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("app", "app-secret")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func metadata(t *testing.T, e *echo.Echo, path string) (map[string]any, string) {
	t.Helper()
	rec := serveForm(e, http.MethodGet, path, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Header().Get("Content-Type"), "application/json")
	assert.Equal(t, handlers.MetadataCacheControl, rec.Header().Get("Cache-Control"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
	return m, rec.Body.String()
}

// metadata at the well-known path lists the
// issuer, every mounted endpoint and exactly what is enabled.
func TestRegisterJWT(t *testing.T) {
	t.Parallel()
	opts := jwtOptions(t)
	opts.Grants = []string{"authorization_code", "client_credentials", "refresh_token"}
	srv := newServer(t, opts)
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), srv, handlers.RegisterConfig{}))

	m, raw := metadata(t, e, "/.well-known/oauth-authorization-server")
	assertionAlgs := []any{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
		"HS256", "HS384", "HS512"}
	assert.Equal(t, map[string]any{
		"issuer":                                "https://as.example.com",
		"token_endpoint":                        "https://as.example.com/token",
		"revocation_endpoint":                   "https://as.example.com/revoke",
		"introspection_endpoint":                "https://as.example.com/introspect",
		"jwks_uri":                              "https://as.example.com/jwks.json",
		"pushed_authorization_request_endpoint": "https://as.example.com/par",
		"response_types_supported":              []any{"code"},
		"grant_types_supported":                 []any{"authorization_code", "client_credentials", "refresh_token"},
		"token_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post",
			"private_key_jwt", "client_secret_jwt", "none"},
		"revocation_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post",
			"private_key_jwt", "client_secret_jwt", "none"},
		"introspection_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post",
			"private_key_jwt", "client_secret_jwt"},
		"token_endpoint_auth_signing_alg_values_supported":         assertionAlgs,
		"revocation_endpoint_auth_signing_alg_values_supported":    assertionAlgs,
		"introspection_endpoint_auth_signing_alg_values_supported": assertionAlgs,
		"code_challenge_methods_supported":                         []any{"S256"},
	}, m)
	assert.NotContains(t, raw, "[]")
	assert.NotContains(t, raw, "null")
	assert.NotContains(t, m, "authorization_endpoint", "not mounted by Register yet")

	// Every listed endpoint is really mounted.
	tok := serveForm(e, http.MethodPost, "/token", url.Values{"grant_type": {"client_credentials"}})
	require.Equal(t, http.StatusOK, tok.Code, tok.Body.String())
	var tr map[string]any
	require.NoError(t, json.Unmarshal(tok.Body.Bytes(), &tr))
	at := tr["access_token"].(string)
	assert.Equal(t, http.StatusForbidden, serveForm(e, http.MethodPost, "/introspect", url.Values{"token": {at}}).Code,
		"mounted; app may not introspect")
	assert.Equal(t, http.StatusOK, serveForm(e, http.MethodPost, "/revoke", url.Values{"token": {at}}).Code)
	jwks := serveForm(e, http.MethodGet, "/jwks.json", nil)
	require.Equal(t, http.StatusOK, jwks.Code)
	assert.Equal(t, "public, max-age=900", jwks.Header().Get("Cache-Control"))
	assert.Contains(t, jwks.Body.String(), `"kty":"EC"`)
}

// zero-element members are omitted, nothing disabled listed.
func TestRegisterOpaqueMinimal(t *testing.T) {
	t.Parallel()
	srv := newServer(t, oauth2server.Options{Issuer: "https://as.example.com/", Grants: []string{"client_credentials"}})
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), srv, handlers.RegisterConfig{
		TokenPath: "/oauth/token", JWKSPath: "/keys"}))
	m, raw := metadata(t, e, "/.well-known/oauth-authorization-server")
	assert.Equal(t, "https://as.example.com/", m["issuer"], "issuer exactly as configured")
	assert.Equal(t, "https://as.example.com/oauth/token", m["token_endpoint"])
	assert.Equal(t, []any{"client_credentials"}, m["grant_types_supported"])
	assert.Equal(t, []any{"client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt"},
		m["token_endpoint_auth_methods_supported"])
	for _, absent := range []string{"jwks_uri", "response_types_supported", "code_challenge_methods_supported",
		"authorization_endpoint", "response_modes_supported", "authorization_response_iss_parameter_supported"} {
		assert.NotContains(t, m, absent)
	}
	assert.NotContains(t, raw, "[]")
	assert.Equal(t, http.StatusNotFound, serveForm(e, http.MethodGet, "/keys", nil).Code)

	// The handler alone answers 404 too when tokens are opaque.
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	require.NoError(t, handlers.JWKS(srv)(c))
	assert.Equal(t, http.StatusNotFound, c.Response().Status)
}

// for an issuer with a path, metadata goes between host and path,
// which needs Root when the group sits at the issuer path.
func TestRegisterIssuerWithPath(t *testing.T) {
	t.Parallel()
	opts := jwtOptions(t)
	opts.Issuer = "https://as.example.com/tenant"
	opts.AllowPlainPKCE = true
	srv := newServer(t, opts)

	e := echo.New()
	err := handlers.Register(e.Group("/tenant"), srv, handlers.RegisterConfig{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/.well-known/oauth-authorization-server/tenant")
	assert.Contains(t, err.Error(), "RegisterConfig.Root")

	require.NoError(t, handlers.Register(e.Group("/tenant"), srv, handlers.RegisterConfig{Root: e, JWKSMaxAge: 60e9}))
	m, _ := metadata(t, e, "/.well-known/oauth-authorization-server/tenant")
	assert.Equal(t, "https://as.example.com/tenant", m["issuer"])
	assert.Equal(t, "https://as.example.com/tenant/token", m["token_endpoint"])
	assert.Equal(t, "https://as.example.com/tenant/jwks.json", m["jwks_uri"])
	assert.Equal(t, []any{"S256", "plain"}, m["code_challenge_methods_supported"])
	assert.Equal(t, "public, max-age=60", serveForm(e, http.MethodGet, "/tenant/jwks.json", nil).Header().Get("Cache-Control"))
}

func TestRegisterErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		givenOpts   oauth2server.Options
		givenConfig handlers.RegisterConfig
		expectError string
	}{
		{name: "nok, no issuer", expectError: "Issuer is required"},
		{name: "nok, bad BaseURL", givenOpts: oauth2server.Options{Issuer: "https://as.example.com"},
			givenConfig: handlers.RegisterConfig{BaseURL: "/relative"}, expectError: "BaseURL"},
		{name: "nok, BaseURL on another host without Root", givenOpts: oauth2server.Options{Issuer: "https://as.example.com"},
			givenConfig: handlers.RegisterConfig{BaseURL: "https://other.example.com"}, expectError: "RegisterConfig.Root"},
		{name: "nok, plain http endpoint", givenOpts: oauth2server.Options{Issuer: "https://as.example.com"},
			givenConfig: handlers.RegisterConfig{BaseURL: "http://as.example.com", Root: echo.New()}, expectError: "absolute https URL"},
		{name: "nok, negative JWKSMaxAge", givenOpts: oauth2server.Options{Issuer: "https://as.example.com"},
			givenConfig: handlers.RegisterConfig{JWKSMaxAge: -time.Second}, expectError: "MaxAge must not be negative"},
		{name: "ok, loopback http for development", givenOpts: oauth2server.Options{Issuer: "http://127.0.0.1:8080"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, tc.givenOpts)
			err := handlers.Register(echo.New().Group(""), srv, tc.givenConfig)
			if tc.expectError == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.expectError)
		})
	}
}

// RegisterConfig.Authorize may leave Server nil (Register fills it in) or
// name the Server being mounted; another Server or an invalid
// configuration fails Register, and nothing is mounted.
func TestRegisterAuthorizeServer(t *testing.T) {
	t.Parallel()
	opts := oauth2server.Options{Issuer: "https://as.example.com"}
	srv := newServer(t, opts)
	other := newServer(t, opts)
	var testCases = []struct {
		name        string
		givenConfig handlers.AuthorizeConfig
		expectError string
	}{
		{name: "ok, Server nil", givenConfig: handlers.AuthorizeConfig{UserFromRequest: userFromHeader}},
		{name: "ok, the mounted Server", givenConfig: handlers.AuthorizeConfig{Server: srv, UserFromRequest: userFromHeader}},
		{name: "nok, another Server", givenConfig: handlers.AuthorizeConfig{Server: other, UserFromRequest: userFromHeader},
			expectError: "another Server"},
		{name: "nok, no UserFromRequest", givenConfig: handlers.AuthorizeConfig{},
			expectError: "UserFromRequest is required"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			e := echo.New()
			cfg := tc.givenConfig
			err := handlers.Register(e.Group(""), srv, handlers.RegisterConfig{Authorize: &cfg})
			if tc.expectError != "" {
				assert.ErrorContains(t, err, tc.expectError)
				assert.Empty(t, e.Routes())
				return
			}
			require.NoError(t, err)
			assert.Same(t, tc.givenConfig.Server, cfg.Server, "Register does not change the caller's configuration")
			rec := serve(e, http.MethodGet, "/authorize?"+codeQuery("client_id", "app", "redirect_uri", "").Encode(), "alice")
			assert.NotEqual(t, http.StatusNotFound, rec.Code)
		})
	}
}

// Metadata with an authorization endpoint advertises RFC 9207 iss and
// query response mode; a JWKS URL with opaque tokens is refused.
func TestMetadataEndpoints(t *testing.T) {
	t.Parallel()
	srv := newServer(t, oauth2server.Options{Issuer: "https://as.example.com"})
	h := handlers.MetadataWithConfig(handlers.MetadataConfig{Server: srv,
		Endpoints: oauth2server.Endpoints{Authorization: "https://as.example.com/authorize"}})
	rec := httptest.NewRecorder()
	require.NoError(t, h(echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)))
	assert.Equal(t, handlers.MetadataCacheControl, rec.Header().Get("Cache-Control"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
	assert.Equal(t, true, m["authorization_response_iss_parameter_supported"])
	assert.Equal(t, []any{"query"}, m["response_modes_supported"])
	assert.Equal(t, "https://as.example.com/authorize", m["authorization_endpoint"])

	u, err := oauth2server.MetadataURL("https://as.example.com/a/b")
	require.NoError(t, err)
	assert.Equal(t, "https://as.example.com/.well-known/oauth-authorization-server/a/b", u)
}

// Configuration errors come from ToHandler; only MetadataWithConfig
// panics on them.
func TestMetadataConfig(t *testing.T) {
	t.Parallel()
	srv := newServer(t, oauth2server.Options{Issuer: "https://as.example.com"})
	noIssuer := newServer(t, oauth2server.Options{})
	var testCases = []struct {
		name        string
		givenConfig handlers.MetadataConfig
		expectError string
	}{
		{name: "ok, token endpoint", givenConfig: handlers.MetadataConfig{Server: srv,
			Endpoints: oauth2server.Endpoints{Token: "https://as.example.com/token"}}},
		{name: "nok, no Server", givenConfig: handlers.MetadataConfig{
			Endpoints: oauth2server.Endpoints{Token: "https://as.example.com/token"}}, expectError: "MetadataConfig.Server is required"},
		{name: "nok, no issuer", givenConfig: handlers.MetadataConfig{Server: noIssuer,
			Endpoints: oauth2server.Endpoints{Token: "https://as.example.com/token"}}, expectError: "Issuer"},
		{name: "nok, JWKS URL with opaque tokens", givenConfig: handlers.MetadataConfig{Server: srv,
			Endpoints: oauth2server.Endpoints{JWKS: "https://as.example.com/jwks.json"}}, expectError: "opaque"},
		{name: "nok, URL with a fragment", givenConfig: handlers.MetadataConfig{Server: srv,
			Endpoints: oauth2server.Endpoints{Token: "https://as.example.com/t#frag"}}, expectError: "Token"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := tc.givenConfig.ToHandler()
			if tc.expectError == "" {
				assert.NoError(t, err)
				assert.NotNil(t, h)
				assert.NotPanics(t, func() { handlers.MetadataWithConfig(tc.givenConfig) })
				return
			}
			assert.ErrorContains(t, err, tc.expectError)
			assert.Nil(t, h)
			assert.PanicsWithError(t, err.Error(), func() { handlers.MetadataWithConfig(tc.givenConfig) })
		})
	}
}

// JWKS(srv) is JWKSWithConfig with the default cache lifetime; a
// configuration error comes from ToHandler, and only JWKSWithConfig
// panics on it.
func TestJWKSConfig(t *testing.T) {
	t.Parallel()
	srv := newServer(t, jwtOptions(t))
	var testCases = []struct {
		name        string
		givenConfig *handlers.JWKSConfig // nil: JWKS(srv)
		expectCache string
		expectError string
	}{
		{name: "ok, JWKS(srv)", expectCache: "public, max-age=900"},
		{name: "ok, zero MaxAge is the default", givenConfig: &handlers.JWKSConfig{Server: srv}, expectCache: "public, max-age=900"},
		{name: "ok, MaxAge of a minute", givenConfig: &handlers.JWKSConfig{Server: srv, MaxAge: time.Minute}, expectCache: "public, max-age=60"},
		{name: "nok, no Server", givenConfig: &handlers.JWKSConfig{MaxAge: time.Minute}, expectError: "JWKSConfig.Server is required"},
		{name: "nok, negative MaxAge", givenConfig: &handlers.JWKSConfig{Server: srv, MaxAge: -time.Second}, expectError: "MaxAge must not be negative"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			var h echo.HandlerFunc
			if tc.givenConfig == nil {
				h = handlers.JWKS(srv)
			} else {
				var err error
				h, err = tc.givenConfig.ToHandler()
				if tc.expectError != "" {
					assert.ErrorContains(t, err, tc.expectError)
					assert.Nil(t, h)
					assert.PanicsWithError(t, err.Error(), func() { handlers.JWKSWithConfig(*tc.givenConfig) })
					return
				}
				require.NoError(t, err)
			}
			rec := httptest.NewRecorder()
			require.NoError(t, h(echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)))
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, tc.expectCache, rec.Header().Get("Cache-Control"))
			assert.Equal(t, "application/jwk-set+json", rec.Header().Get("Content-Type"))
		})
	}
	assert.Panics(t, func() { handlers.JWKS(nil) })
}

// with an authorization endpoint, the device grant and the
// legacy implicit grant enabled, Register mounts them and the metadata
// lists each, with the response modes and the RFC 9207 flag.
func TestRegisterAuthorizeAndDevice(t *testing.T) {
	t.Parallel()
	srv := newServer(t, oauth2server.Options{
		Issuer:             "https://as.example.com",
		AllowImplicitGrant: true,
		Device:             oauth2server.DeviceOptions{VerificationURI: "https://as.example.com/device"},
	})
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), srv, handlers.RegisterConfig{
		Authorize: &handlers.AuthorizeConfig{
			UserFromRequest: func(echo.Context) (*oauth2server.User, error) { return nil, nil },
		},
	}))
	m, _ := metadata(t, e, "/.well-known/oauth-authorization-server")
	assert.Equal(t, "https://as.example.com/authorize", m["authorization_endpoint"])
	assert.Equal(t, "https://as.example.com/device_authorization", m["device_authorization_endpoint"])
	assert.Equal(t, []any{"query", "fragment"}, m["response_modes_supported"])
	assert.Equal(t, []any{"code", "token"}, m["response_types_supported"])
	assert.Contains(t, m["grant_types_supported"], "implicit")
	assert.Contains(t, m["grant_types_supported"], oauth2server.GrantDeviceCode)
	assert.Equal(t, true, m["authorization_response_iss_parameter_supported"])

	// The mounted device endpoint answers (the demo client lacks the
	// grant, so: unauthorized_client, not 404/405).
	rec := serveForm(e, http.MethodPost, "/device_authorization", url.Values{"scope": {"read"}})
	assert.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "unauthorized_client")
	// The authorization endpoint is mounted: a request without client_id
	// is shown as an error page, not routed to 404.
	rec = serveForm(e, http.MethodGet, "/authorize?response_type=code", nil)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
}
