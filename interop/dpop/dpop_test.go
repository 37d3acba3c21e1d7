package dpop_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	oauthmw "github.com/echo-oauth2/oauth2server/middleware"
)

const (
	clientID     = "app"
	clientSecret = "app-secret"
	redirectURI  = "https://app.example/cb"
	// The RFC 7636 Appendix B verifier and challenge.
	verifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// server is an authorization server with JWT access tokens and DPoP on
// loopback, and a protected route GET /api/me.
type server struct {
	*httptest.Server
	srv *oauth2server.Server
}

func newServer(t *testing.T, dpop oauth2server.DPoPOptions) *server {
	t.Helper()
	m := memorymodel.New()
	require.NoError(t, m.AddClient(context.Background(), &oauth2server.Client{ID: clientID,
		SecretHash: oauth2server.HashSecret(clientSecret), RedirectURIs: []string{redirectURI},
		Grants: []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantClientCredentials, oauth2server.GrantRefreshToken},
		Scopes: []string{"read"}}))
	e := echo.New()
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	srv, err := oauth2server.New(m, oauth2server.Options{Issuer: ts.URL, Audience: ts.URL + "/api", JWT: &oauth2server.JWTOptions{},
		AllowGeneratedKeys: true, GeneratedKeyAlgorithm: oauth2server.AlgES256, DPoP: &dpop,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, handlers.Register(e.Group(""), srv, handlers.RegisterConfig{}))
	e.GET("/api/me", func(c echo.Context) error {
		tok, _ := oauthmw.TokenFromContext(c)
		return c.String(http.StatusOK, tok.DPoPJKT)
	}, oauthmw.Authenticate(srv))
	return &server{Server: ts, srv: srv}
}

// client is a DPoP client whose proofs go-jose signs, with the key
// embedded as the jwk header.
type client struct {
	t      *testing.T
	signer jose.Signer
	jkt    string
}

func newClient(t *testing.T, alg jose.SignatureAlgorithm) *client {
	t.Helper()
	var key crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case jose.PS256, jose.RS256:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	require.NoError(t, err)
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	require.NoError(t, err)
	tp, err := (&jose.JSONWebKey{Key: key.Public()}).Thumbprint(crypto.SHA256)
	require.NoError(t, err)
	return &client{t: t, signer: signer, jkt: base64.RawURLEncoding.EncodeToString(tp)}
}

// proof is a DPoP proof for method and target; extra claims (ath, nonce)
// are added.
func (c *client) proof(method, target string, extra map[string]any) string {
	c.t.Helper()
	claims := map[string]any{"jti": rand.Text(), "htm": method, "htu": target, "iat": time.Now().Unix()}
	for k, v := range extra {
		claims[k] = v
	}
	raw, err := josejwt.Signed(c.signer).Claims(claims).Serialize()
	require.NoError(c.t, err)
	return raw
}

func ath(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// post sends a form with Basic authentication and the DPoP proof.
func post(t *testing.T, target string, form url.Values, proof string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var body map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(b, &body), string(b))
	} else {
		body = map[string]any{"text": string(b)}
	}
	return resp, body
}

// get calls the protected route with the scheme, token and proof.
func get(t *testing.T, target, scheme, token, proof string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", scheme+" "+token)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return send(t, req)
}

// jwtClaims decodes the claims of a JWT without verifying it.
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(b, &claims))
	return claims
}

// A token bound with a go-jose proof carries go-jose's thumbprint as
// cnf.jkt, and the protected route accepts it with a go-jose proof that
// carries ath, for every algorithm; sent as Bearer, it is refused.
func TestGoJoseProofs(t *testing.T) {
	ts := newServer(t, oauth2server.DPoPOptions{})
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.PS256, jose.RS256} {
		t.Run(string(alg), func(t *testing.T) {
			c := newClient(t, alg)
			resp, body := post(t, ts.URL+"/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}},
				c.proof(http.MethodPost, ts.URL+"/token", nil))
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			assert.Equal(t, "DPoP", body["token_type"])
			at := body["access_token"].(string)
			assert.Equal(t, map[string]any{"jkt": c.jkt}, jwtClaims(t, at)["cnf"])

			resp, body = get(t, ts.URL+"/api/me", "DPoP", at, c.proof(http.MethodGet, ts.URL+"/api/me", map[string]any{"ath": ath(at)}))
			require.Equal(t, http.StatusOK, resp.StatusCode, body)
			assert.Equal(t, c.jkt, body["text"])

			resp, _ = get(t, ts.URL+"/api/me", "Bearer", at, "")
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
			assert.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "DPoP "))

			resp, body = get(t, ts.URL+"/api/me", "DPoP", at, c.proof(http.MethodGet, ts.URL+"/api/me", nil))
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Equal(t, "invalid_dpop_proof", body["error"], "no ath")
		})
	}
}

// A go-jose client follows the nonce dance: use_dpop_nonce with a
// DPoP-Nonce header, then the retry with the nonce succeeds.
func TestGoJoseNonce(t *testing.T) {
	ts := newServer(t, oauth2server.DPoPOptions{RequireNonce: true})
	c := newClient(t, jose.ES256)
	form := url.Values{"grant_type": {"client_credentials"}}
	resp, body := post(t, ts.URL+"/token", form, c.proof(http.MethodPost, ts.URL+"/token", nil))
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "use_dpop_nonce", body["error"])
	nonce := resp.Header.Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)
	resp, body = post(t, ts.URL+"/token", form, c.proof(http.MethodPost, ts.URL+"/token", map[string]any{"nonce": nonce}))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "DPoP", body["token_type"])
}

// A go-jose proof at the PAR endpoint binds the code (RFC 9449 §10.1):
// only a proof of the same key redeems it.
func TestGoJosePushedRequestBindsTheCode(t *testing.T) {
	ts := newServer(t, oauth2server.DPoPOptions{})
	c, other := newClient(t, jose.ES256), newClient(t, jose.EdDSA)
	resp, body := post(t, ts.URL+"/par", url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI},
		"scope": {"read"}, "state": {"s"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}},
		c.proof(http.MethodPost, ts.URL+"/par", nil))
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	r := httptest.NewRequest(http.MethodGet, "/authorize?"+url.Values{"client_id": {clientID},
		"request_uri": {body["request_uri"].(string)}}.Encode(), nil)
	ar, err := ts.srv.ValidateAuthorizeRequest(r)
	require.NoError(t, err)
	assert.Equal(t, c.jkt, ar.DPoPJKT)
	target, err := ts.srv.Authorize(context.Background(), ar, &oauth2server.User{ID: "alice"}, oauth2server.Decision{Approved: true})
	require.NoError(t, err)
	loc, err := url.Parse(target)
	require.NoError(t, err)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}}

	resp, body = post(t, ts.URL+"/token", form, other.proof(http.MethodPost, ts.URL+"/token", nil))
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "invalid_dpop_proof", body["error"])
	resp, body = post(t, ts.URL+"/token", form, c.proof(http.MethodPost, ts.URL+"/token", nil))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, map[string]any{"jkt": c.jkt}, jwtClaims(t, body["access_token"].(string))["cnf"])
}
