package nethttp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/internal/optest"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// the OpenID Provider configuration on a ServeMux is the
// RFC 8414 metadata of the same endpoints with the OpenID Connect members.
func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	ep := oauth2server.Endpoints{Authorization: testIssuer + "/authorize", Token: testIssuer + "/token",
		JWKS: testIssuer + "/jwks.json", UserInfo: testIssuer + "/userinfo"}
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/openid-configuration",
		nethttp.OpenIDConfigurationWithConfig(nethttp.OpenIDConfigurationConfig{Server: f.Srv, Endpoints: ep}))
	mux.Handle("GET /.well-known/oauth-authorization-server",
		nethttp.MetadataWithConfig(nethttp.MetadataConfig{Server: f.Srv, Endpoints: ep}))

	get := func(path string) map[string]any {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		assert.Equal(t, nethttp.MetadataCacheControl, rec.Header().Get("Cache-Control"))
		var m map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
		return m
	}
	doc := get("/.well-known/openid-configuration")
	assert.Equal(t, get("/.well-known/oauth-authorization-server"), doc)
	assert.Equal(t, testIssuer, doc["issuer"])
	assert.Equal(t, testIssuer+"/userinfo", doc["userinfo_endpoint"])
	assert.Equal(t, []any{"RS256"}, doc["id_token_signing_alg_values_supported"])
	assert.NotContains(t, doc, "end_session_endpoint")

	head := httptest.NewRecorder()
	mux.ServeHTTP(head, httptest.NewRequest(http.MethodHead, "/.well-known/openid-configuration", nil))
	assert.Equal(t, http.StatusOK, head.Code, "HEAD wherever GET")

	_, err := nethttp.OpenIDConfigurationConfig{}.ToHandler()
	assert.EqualError(t, err, "nethttp: OpenIDConfigurationConfig.Server is required")
	plain, _, _ := newAuthzServer(t)
	_, err = nethttp.OpenIDConfigurationConfig{Server: plain, Endpoints: ep}.ToHandler()
	assert.ErrorContains(t, err, "needs Options.OpenID")
	assert.Panics(t, func() {
		nethttp.OpenIDConfigurationWithConfig(nethttp.OpenIDConfigurationConfig{Server: f.Srv,
			Endpoints: oauth2server.Endpoints{Token: testIssuer + "/token"}})
	})
}
