package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2/clientcredentials"
)

func getJSON(t *testing.T, u string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

// the metadata lists the endpoints the example mounts.
func TestMetadata(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	status, meta := getJSON(t, ts.base+"/.well-known/oauth-authorization-server")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, ts.base, meta["issuer"])
	assert.Equal(t, ts.base+tokenPath, meta["token_endpoint"])
	assert.Equal(t, ts.base+"/oauth/revoke", meta["revocation_endpoint"])
	assert.Equal(t, ts.base+"/oauth/introspect", meta["introspection_endpoint"])
	assert.Equal(t, ts.base+"/oauth/jwks.json", meta["jwks_uri"], "the keys of the ID tokens")
	assert.Equal(t, ts.base+"/oauth/userinfo", meta["userinfo_endpoint"])
	assert.Equal(t, ts.base+"/oauth/end_session", meta["end_session_endpoint"])
	assert.Contains(t, meta["grant_types_supported"], "client_credentials")

	// OpenID Connect Discovery lists the same endpoints.
	status, disco := getJSON(t, ts.base+"/.well-known/openid-configuration")
	require.Equal(t, http.StatusOK, status)
	for _, k := range []string{"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "end_session_endpoint"} {
		assert.Equal(t, meta[k], disco[k], k)
	}
	assert.Equal(t, []any{"RS256"}, disco["id_token_signing_alg_values_supported"])

	// Without OpenID Connect and with opaque tokens there is no JWK Set.
	ts = startApp(t, appConfig{NoOpenID: true})
	status, meta = getJSON(t, ts.base+"/.well-known/oauth-authorization-server")
	require.Equal(t, http.StatusOK, status)
	assert.NotContains(t, meta, "jwks_uri", "opaque tokens: no JWK Set")
	assert.NotContains(t, meta, "userinfo_endpoint")
	resp, err := http.Get(ts.base + "/.well-known/openid-configuration")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// A resource server (the confidential demo client) introspects a token,
// then its owner revokes it.
func TestIntrospectAndRevoke(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	cc := clientcredentials.Config{ClientID: demoConfidentialClient, ClientSecret: demoClientSecret,
		TokenURL: ts.base + tokenPath, Scopes: []string{"read"}}
	tok, err := cc.Token(context.Background())
	require.NoError(t, err)

	introspect := func() map[string]any {
		req, err := http.NewRequest(http.MethodPost, ts.base+"/oauth/introspect",
			strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(demoConfidentialClient, demoClientSecret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return body
	}
	got := introspect()
	assert.Equal(t, true, got["active"])
	assert.Equal(t, "read", got["scope"])
	assert.Equal(t, demoConfidentialClient, got["client_id"])

	req, err := http.NewRequest(http.MethodPost, ts.base+"/oauth/revoke",
		strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(demoConfidentialClient, demoClientSecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)

	assert.Equal(t, map[string]any{"active": false}, introspect(), "R-81: revoked at once; R-88: nothing else")
}

func writeECKey(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "signing.pem")
	require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	return p
}

func TestJWTFlags(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name        string
		givenConfig appConfig
		expectAlg   string
		expectError string
	}{
		{name: "ok, -jwt -dev generates a key", givenConfig: appConfig{JWT: true, Dev: true}, expectAlg: "RS256"},
		{name: "ok, -jwt -signing-key", givenConfig: appConfig{JWT: true, SigningKeyFile: "EC", NoOpenID: true}, expectAlg: "ES256"},
		{name: "ok, -jwt -signing-key RSA signs access and ID tokens", givenConfig: appConfig{JWT: true, SigningKeyFile: testSigningKey}, expectAlg: "RS256"},
		{name: "nok, -jwt without a key", givenConfig: appConfig{JWT: true}, expectError: "-jwt needs -signing-key FILE"},
		{name: "nok, -signing-key without -jwt or OpenID", givenConfig: appConfig{SigningKeyFile: "EC", NoOpenID: true}, expectError: "-signing-key needs -jwt or OpenID Connect"},
		{name: "nok, OpenID with an EC key", givenConfig: appConfig{JWT: true, SigningKeyFile: "EC"}, expectError: "OpenID Connect needs an RS256 (RSA) private key"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.givenConfig
			if cfg.SigningKeyFile == "EC" {
				cfg.SigningKeyFile = writeECKey(t)
			}
			if tc.expectError != "" {
				cfg.Addr = "127.0.0.1:9096"
				cfg.hashPassword = cheapHash
				_, _, err := newApp(cfg)
				assert.ErrorContains(t, err, tc.expectError)
				return
			}
			ts := startApp(t, cfg)
			status, meta := getJSON(t, ts.base+"/.well-known/oauth-authorization-server")
			require.Equal(t, http.StatusOK, status)
			jwksURI, _ := meta["jwks_uri"].(string)
			require.NotEmpty(t, jwksURI)
			status, jwks := getJSON(t, jwksURI)
			require.Equal(t, http.StatusOK, status)
			keys, _ := jwks["keys"].([]any)
			require.Len(t, keys, 1)
			assert.Equal(t, tc.expectAlg, keys[0].(map[string]any)["alg"])
			assert.NotContains(t, keys[0], "d", "R-100: public keys only")

			cc := clientcredentials.Config{ClientID: demoConfidentialClient, ClientSecret: demoClientSecret,
				TokenURL: ts.base + tokenPath, Scopes: []string{"read"}}
			tok, err := cc.Token(context.Background())
			require.NoError(t, err)
			assert.Len(t, strings.Split(tok.AccessToken, "."), 3, "a JWT")
		})
	}
}
