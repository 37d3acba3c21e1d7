package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

func TestConfigFileAssertionErrors(t *testing.T) {
	t.Parallel()
	const jwks = `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`
	cc := `"grants":["client_credentials"]`
	var testCases = []struct {
		name        string
		givenJSON   string
		expectError string
	}{
		{name: "nok, private_key_jwt without keys", givenJSON: `{"clients":[{"id":"a","token_endpoint_auth_method":"private_key_jwt",` + cc + `}]}`,
			expectError: "private_key_jwt needs jwks or jwks_uri"},
		{name: "nok, private_key_jwt with both", givenJSON: `{"clients":[{"id":"a","token_endpoint_auth_method":"private_key_jwt","jwks":` + jwks +
			`,"jwks_uri":"https://a.example/jwks",` + cc + `}]}`, expectError: "not both"},
		{name: "nok, private_key_jwt with a secret", givenJSON: `{"clients":[{"id":"a","secret":"s","token_endpoint_auth_method":"private_key_jwt","jwks":` +
			jwks + `,` + cc + `}]}`, expectError: "has no secret"},
		{name: "nok, jwks is no JWK Set", givenJSON: `{"clients":[{"id":"a","token_endpoint_auth_method":"private_key_jwt","jwks":{"kty":"OKP"},` + cc + `}]}`,
			expectError: "jwks must be a JWK Set"},
		{name: "nok, jwks_uri over http", givenJSON: `{"clients":[{"id":"a","token_endpoint_auth_method":"private_key_jwt","jwks_uri":"http://a.example/jwks",` + cc + `}]}`,
			expectError: "must be an https URL"},
		{name: "nok, keys without private_key_jwt", givenJSON: `{"clients":[{"id":"a","secret":"s","jwks":` + jwks + `,` + cc + `}]}`,
			expectError: "jwks and jwks_uri are for token_endpoint_auth_method private_key_jwt"},
		{name: "nok, client_secret_jwt is not offered", givenJSON: `{"clients":[{"id":"a","secret":"s","token_endpoint_auth_method":"client_secret_jwt",` + cc + `}]}`,
			expectError: `token_endpoint_auth_method "client_secret_jwt" is not one of`},
		{name: "nok, a trusted issuer without keys", givenJSON: `{"trusted_issuers":[{"issuer":"https://idp.example"}]}`,
			expectError: `trusted issuer "https://idp.example": private_key_jwt needs jwks or jwks_uri`},
		{name: "nok, a subject naming nobody", givenJSON: `{"trusted_issuers":[{"issuer":"https://idp.example","jwks":` + jwks + `,"subjects":{"s":"ghost"}}]}`,
			expectError: `subject "s" names no user`},
		{name: "nok, a duplicate trusted issuer", givenJSON: `{"trusted_issuers":[{"issuer":"https://i.example","jwks":` + jwks +
			`},{"issuer":"https://i.example","jwks":` + jwks + `}]}`, expectError: "duplicate"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.json")
			require.NoError(t, os.WriteFile(p, []byte(tc.givenJSON), 0o600))
			_, err := loadConfigFile(p)
			assert.ErrorContains(t, err, tc.expectError)
		})
	}
}

// A private_key_jwt client and a trusted issuer of the config file get
// tokens from the example: client_credentials with a client assertion,
// and the JWT bearer grant for the user the issuer's subject stands for.
func TestConfigFileAssertions(t *testing.T) {
	t.Parallel()
	clientKey, clientJWKS := ecKey(t, "batch-1")
	idpKey, idpJWKS := ecKey(t, "idp-1")
	fc := &fileConfig{
		Clients: []fileClient{{ID: "batch", TokenEndpointAuthMethod: oauth2server.AuthMethodPrivateKeyJWT, JWKS: clientJWKS,
			Grants: []string{oauth2server.GrantClientCredentials, oauth2server.GrantJWTBearer}, Scopes: []string{"read"}}},
		Users:          []fileUser{{Username: "alice", Password: "pw"}},
		TrustedIssuers: []fileIssuer{{Issuer: "https://idp.example", JWKS: idpJWKS, Subjects: map[string]string{"248289761001": "alice"}}},
	}
	require.NoError(t, fc.check())
	ts := startApp(t, appConfig{Data: fc})
	tokenURL := ts.base + tokenPath
	sign := func(key *ecdsa.PrivateKey, kid string, claims jwt.MapClaims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
		tok.Header["kid"] = kid
		raw, err := tok.SignedString(key)
		require.NoError(t, err)
		return raw
	}
	claims := func(iss, sub string) jwt.MapClaims {
		return jwt.MapClaims{"iss": iss, "sub": sub, "aud": tokenURL, "exp": time.Now().Add(time.Minute).Unix(),
			"jti": base64.RawURLEncoding.EncodeToString([]byte(time.Now().String()))}
	}
	assertion := sign(clientKey, "batch-1", claims("batch", "batch"))
	send := func(form url.Values) (int, map[string]any) {
		resp, body := post(t, http.DefaultClient, tokenURL, form)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &m), body)
		return resp.StatusCode, m
	}

	status, body := send(url.Values{"grant_type": {"client_credentials"},
		"client_assertion_type": {oauth2server.ClientAssertionTypeJWTBearer}, "client_assertion": {assertion}})
	require.Equal(t, http.StatusOK, status, body)

	status, body = send(url.Values{"grant_type": {oauth2server.GrantJWTBearer},
		"assertion":             {sign(idpKey, "idp-1", claims("https://idp.example", "248289761001"))},
		"client_assertion_type": {oauth2server.ClientAssertionTypeJWTBearer},
		"client_assertion":      {sign(clientKey, "batch-1", claims("batch", "batch"))}})
	require.Equal(t, http.StatusOK, status, body)
	tok, err := ts.app.srv.ValidateAccessToken(context.Background(), body["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, "alice", tok.UserID)
	assert.Equal(t, "batch", tok.ClientID)
}

// ecKey makes a P-256 key and its JWK Set.
func ecKey(t *testing.T, kid string) (*ecdsa.PrivateKey, json.RawMessage) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	raw, err := k.PublicKey.Bytes()
	require.NoError(t, err)
	b64 := base64.RawURLEncoding.EncodeToString
	set, err := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "kid": kid,
		"x": b64(raw[1:33]), "y": b64(raw[33:])}}})
	require.NoError(t, err)
	return k, set
}
