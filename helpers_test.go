package oauth2server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

const (
	testIssuer   = "https://as.example.com"
	testAudience = "https://api.example.com"
	testRedirect = "https://app.example/cb"
	testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

// testClock is an injectable clock (Options.Now).
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add is Advance, for tests that read better with it.
func (c *testClock) Add(d time.Duration) { c.Advance(d) }

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a server with every endpoint mounted through handlers.Register.
type env struct {
	t     *testing.T
	m     *memorymodel.Model
	srv   *oauth2server.Server
	e     *echo.Echo
	clock *testClock
}

// newEnv builds a server over a fresh memorymodel with the test clients.
// model, when not nil, wraps the memorymodel (e.g. to drop a capability).
func newEnv(t *testing.T, wrap func(*memorymodel.Model) oauth2server.Model, opts func(*oauth2server.Options)) *env {
	t.Helper()
	clock := newClock()
	m := memorymodel.New(memorymodel.WithClock(clock.Now))
	for _, c := range []*oauth2server.Client{
		{ID: "app", SecretHash: oauth2server.HashSecret("app-secret"), RedirectURIs: []string{testRedirect},
			Grants: []string{"authorization_code", "refresh_token", "client_credentials"}, Scopes: []string{"read", "write"}},
		{ID: "other", SecretHash: oauth2server.HashSecret("other-secret"), RedirectURIs: []string{testRedirect},
			Grants: []string{"authorization_code", "refresh_token", "client_credentials"}, Scopes: []string{"read", "write"}},
		{ID: "spa", RedirectURIs: []string{testRedirect}, TokenEndpointAuthMethod: oauth2server.AuthMethodNone,
			Grants: []string{"authorization_code", "refresh_token"}, Scopes: []string{"read"}},
		{ID: "rs", SecretHash: oauth2server.HashSecret("rs-secret"), Introspect: true,
			Grants: []string{"client_credentials"}, Scopes: []string{"read"}},
		{ID: "rs-noperm", SecretHash: oauth2server.HashSecret("noperm-secret"),
			Grants: []string{"client_credentials"}, Scopes: []string{"read"}},
		{ID: "spa-introspect", RedirectURIs: []string{testRedirect}, TokenEndpointAuthMethod: oauth2server.AuthMethodNone,
			Introspect: true, Grants: []string{"authorization_code"}},
	} {
		require.NoError(t, m.AddClient(context.Background(), c))
	}
	o := oauth2server.Options{Issuer: testIssuer, Audience: testAudience, Now: clock.Now}
	if opts != nil {
		opts(&o)
	}
	var model oauth2server.Model = m
	if wrap != nil {
		model = wrap(m)
	}
	srv, err := oauth2server.New(model, o)
	require.NoError(t, err)
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), srv, handlers.RegisterConfig{}))
	return &env{t: t, m: m, srv: srv, e: e, clock: clock}
}

// withJWT switches to JWT access tokens signed with the given PEM keys.
func withJWT(keys ...oauth2server.SigningKey) func(*oauth2server.Options) {
	return func(o *oauth2server.Options) {
		o.JWT = &oauth2server.JWTOptions{}
		o.SigningKeys = keys
	}
}

// post sends a form to path. With a secret the client authenticates with
// Basic; without, it sends client_id in the body (public client).
func (e *env) post(path string, form url.Values, clientID, secret string) *httptest.ResponseRecorder {
	e.t.Helper()
	if clientID != "" && secret == "" {
		form.Set("client_id", clientID)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(clientID, secret)
	}
	rec := httptest.NewRecorder()
	e.e.ServeHTTP(rec, req)
	return rec
}

func (e *env) get(path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	e.e.ServeHTTP(rec, req)
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return m
}

// codeFlow issues an access and a refresh token to the client for user
// through the authorization_code grant (the code is saved directly).
func (e *env) codeFlow(clientID, secret, userID string) (access, refresh string) {
	e.t.Helper()
	sum := sha256.Sum256([]byte(testVerifier))
	code := &oauth2server.AuthorizationCode{
		Code: "code-" + clientID + "-" + userID + "-" + e.clock.Now().String(), ExpiresAt: e.clock.Now().Add(time.Minute),
		RedirectURI: testRedirect, Scope: []string{"read"}, ClientID: clientID, UserID: userID,
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), CodeChallengeMethod: "S256",
		GrantID: "grant-" + clientID + "-" + userID + "-" + e.clock.Now().String(), IssuedAt: e.clock.Now(),
	}
	require.NoError(e.t, e.m.SaveAuthorizationCode(context.Background(), code, nil, nil))
	rec := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code.Code},
		"redirect_uri": {testRedirect}, "code_verifier": {testVerifier}}, clientID, secret)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	body := decode(e.t, rec)
	return body["access_token"].(string), body["refresh_token"].(string)
}

// clientCredentials issues an access token to a confidential client.
func (e *env) clientCredentials(clientID, secret string) string {
	e.t.Helper()
	rec := e.post("/token", url.Values{"grant_type": {"client_credentials"}}, clientID, secret)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	return decode(e.t, rec)["access_token"].(string)
}

// refresh runs the refresh_token grant and returns the recorder.
func (e *env) refresh(clientID, secret, rt string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, clientID, secret)
}

// introspect asks as the resource server "rs".
func (e *env) introspect(token, hint string) *httptest.ResponseRecorder {
	e.t.Helper()
	f := url.Values{"token": {token}}
	if hint != "" {
		f.Set("token_type_hint", hint)
	}
	return e.post("/introspect", f, "rs", "rs-secret")
}

func (e *env) revoke(token, hint, clientID, secret string) *httptest.ResponseRecorder {
	e.t.Helper()
	f := url.Values{"token": {token}}
	if hint != "" {
		f.Set("token_type_hint", hint)
	}
	return e.post("/revoke", f, clientID, secret)
}

// valid reports whether a resource server would accept the token.
func (e *env) valid(token string) error {
	_, err := e.srv.ValidateAccessToken(context.Background(), token)
	return err
}

// genKey makes a key of the given algorithm and its PKCS #8 PEM.
func genKey(t *testing.T, alg string) (crypto.Signer, string) {
	t.Helper()
	var k crypto.Signer
	var err error
	switch alg {
	case "RS256":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("unknown alg %s", alg)
	}
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// publicPEM is the PKIX PEM of a public key.
func publicPEM(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// jwtParts decodes the header and claims of a compact JWT without
// verifying it.
func jwtParts(t *testing.T, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, dst))
	}
	return header, claims
}
