package mongomodel_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/mongomodel"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// R-145 on the real wire server: of concurrent token requests with one
// private_key_jwt assertion exactly one is accepted, on a Server over
// mongomodel whose jti single use lives in its CounterModel; a fresh
// assertion of the same client then works.
func TestClientAssertionReplayOnMongo(t *testing.T) {
	m, _ := newModel(t, connect(t), mongomodel.Options{})
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	raw, err := key.PublicKey.Bytes()
	require.NoError(t, err)
	b64 := base64.RawURLEncoding.EncodeToString
	set, err := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "EC", "crv": "P-256", "kid": "k1",
		"alg": "ES256", "x": b64(raw[1:33]), "y": b64(raw[33:])}}})
	require.NoError(t, err)
	require.NoError(t, m.AddClient(ctx, &oauth2server.Client{ID: "svc", TokenEndpointAuthMethod: oauth2server.AuthMethodPrivateKeyJWT,
		JWKS: string(set), Grants: []string{oauth2server.GrantClientCredentials}, Scopes: []string{"read"}}))
	const issuer = "https://as.example.com"
	srv, err := oauth2server.New(m, oauth2server.Options{Issuer: issuer, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	h := nethttp.Token(srv)

	assertion := func() string {
		jti := make([]byte, 16)
		_, _ = rand.Read(jti)
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "svc", "sub": "svc", "aud": issuer,
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(), "jti": b64(jti)})
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(key)
		require.NoError(t, err)
		return s
	}
	post := func(a string) int {
		form := url.Values{"grant_type": {"client_credentials"}, "client_assertion": {a},
			"client_assertion_type": {oauth2server.ClientAssertionTypeJWTBearer}}
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}

	a := assertion()
	const n = 16
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i] = post(a)
		}()
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusUnauthorized: n - 1}, count)
	assert.Equal(t, http.StatusOK, post(assertion()), "a fresh jti works")
}
