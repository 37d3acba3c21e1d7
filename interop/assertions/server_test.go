package assertions_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// server is an oauth2server on loopback with memorymodel: Issuer is its
// URL, the token endpoint URL an accepted assertion audience.
type server struct {
	*httptest.Server
	srv   *oauth2server.Server
	model *memorymodel.Model
	// issuer, tokenURL and introspectURL are the endpoints.
	issuer, tokenURL, introspectURL string
}

// newServer starts a server; mutate changes the Options before New.
func newServer(t *testing.T, mutate func(*oauth2server.Options)) *server {
	t.Helper()
	s := &server{model: memorymodel.New()}
	e := echo.New()
	s.Server = httptest.NewServer(e)
	t.Cleanup(s.Close)
	s.issuer, s.tokenURL, s.introspectURL = s.URL, s.URL+"/token", s.URL+"/introspect"
	opts := oauth2server.Options{
		Issuer:     s.issuer,
		Audience:   "https://api.example",
		Assertions: oauth2server.AssertionOptions{Audiences: []string{s.tokenURL}},
		Logger:     slog.New(slog.DiscardHandler),
	}
	if mutate != nil {
		mutate(&opts)
	}
	var err error
	s.srv, err = oauth2server.New(s.model, opts)
	require.NoError(t, err)
	require.NoError(t, handlers.Register(e.Group(""), s.srv, handlers.RegisterConfig{}))
	return s
}

// keyPair is a private key in PKCS #8 PEM, its public JWK Set and its kid.
type keyPair struct {
	kid    string
	signer crypto.Signer
	pem    []byte
	jwks   string
}

// newKeyPair makes a key of kind "RSA", "EC" or "OKP".
func newKeyPair(t *testing.T, kind, kid string) keyPair {
	t.Helper()
	var k crypto.Signer
	var err error
	switch kind {
	case "RSA":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "EC":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "OKP":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	}
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	b64 := base64.RawURLEncoding.EncodeToString
	jwk := map[string]any{"kid": kid, "use": "sig"}
	switch pub := k.Public().(type) {
	case *rsa.PublicKey:
		jwk["kty"], jwk["n"], jwk["e"] = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		raw, err := pub.Bytes()
		require.NoError(t, err)
		jwk["kty"], jwk["crv"], jwk["x"], jwk["y"] = "EC", "P-256", b64(raw[1:33]), b64(raw[33:])
	case ed25519.PublicKey:
		jwk["kty"], jwk["crv"], jwk["x"] = "OKP", "Ed25519", b64(pub)
	}
	set, err := json.Marshal(map[string]any{"keys": []any{jwk}})
	require.NoError(t, err)
	return keyPair{kid: kid, signer: k, pem: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), jwks: string(set)}
}

// addClient registers a client.
func (s *server) addClient(t *testing.T, c *oauth2server.Client) {
	t.Helper()
	require.NoError(t, s.model.AddClient(context.Background(), c))
}

// userToken saves an access token of user for client, as the
// authorization code flow would have issued it, and returns it.
func (s *server) userToken(t *testing.T, clientID, userID string, scope ...string) string {
	t.Helper()
	at := "user-token-" + clientID + "-" + userID + "-" + time.Now().Format(time.RFC3339Nano)
	require.NoError(t, s.model.SaveToken(context.Background(), &oauth2server.Token{AccessToken: at,
		AccessTokenExpiresAt: time.Now().Add(30 * time.Minute), ClientID: clientID, UserID: userID, Scope: scope,
		GrantID: "grant-" + at, IssuedAt: time.Now()}, nil, nil))
	return at
}

// stored returns the model's record of an access token.
func (s *server) stored(t *testing.T, at string) *oauth2server.Token {
	t.Helper()
	tok, err := s.model.GetAccessToken(context.Background(), at)
	require.NoError(t, err)
	require.NotNil(t, tok, "access token not stored")
	return tok
}

// basicAuth adds HTTP Basic client credentials to every request: how a
// client of golang.org/x/oauth2/jwt, which sends none, authenticates.
type basicAuth struct {
	id, secret string
}

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.id, b.secret)
	return http.DefaultTransport.RoundTrip(r)
}
