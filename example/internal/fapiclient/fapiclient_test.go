package fapiclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nonceServer answers each request with the next of its answers (the
// last one repeats) and keeps the nonce claim of every proof it got.
type nonceServer struct {
	mu      sync.Mutex
	answers []func(w http.ResponseWriter)
	nonces  []string // the proofs' nonce claims, "" for none
}

func (s *nonceServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nonces = append(s.nonces, proofNonce(r.Header.Get("DPoP")))
	i := min(len(s.nonces), len(s.answers)) - 1
	s.answers[i](w)
}

// proofNonce is the nonce claim of a proof, read without verifying it: the
// signature is not what this test is about.
func proofNonce(proof string) string {
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		return "<no proof>"
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "<bad proof>"
	}
	var c struct {
		Nonce string `json:"nonce"`
	}
	if json.Unmarshal(b, &c) != nil {
		return "<bad proof>"
	}
	return c.Nonce
}

// The answers of the test servers.
func asAuthorizationServer(code, nonce string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if nonce != "" {
			w.Header().Set("DPoP-Nonce", nonce)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"` + code + `"}`))
	}
}

func asResourceServer(code, nonce string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if nonce != "" {
			w.Header().Set("DPoP-Nonce", nonce)
		}
		w.Header().Set("WWW-Authenticate", `DPoP realm="api", error="`+code+`", algs="ES256"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
}

func ok(w http.ResponseWriter) { _, _ = w.Write([]byte(`{}`)) }

func newTestClient(t *testing.T) *Client {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	jwk, err := publicJWK(key)
	require.NoError(t, err)
	return &Client{Issuer: "http://issuer.example", ClientID: DemoClientID, Key: key, jwk: jwk, nonce: map[string]string{}}
}

// A use_dpop_nonce answer, from an authorization server (400, JSON) or a
// resource server (401, challenge), with a DPoP-Nonce is retried once with
// that nonce in the proof (RFC 9449 §8, §9); nothing else is retried.
func TestDoRetriesOnceWithTheServerNonce(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name         string
		whenPost     bool // to an authorization server's endpoint; else a GET with a token
		givenAnswers []func(http.ResponseWriter)
		expectNonces []string // of the proofs sent
		expectStatus int
	}{
		{name: "ok, authorization server asks for a nonce", whenPost: true,
			givenAnswers: []func(http.ResponseWriter){asAuthorizationServer("use_dpop_nonce", "n1"), ok},
			expectNonces: []string{"", "n1"}, expectStatus: http.StatusOK},
		{name: "ok, resource server asks for a nonce",
			givenAnswers: []func(http.ResponseWriter){asResourceServer("use_dpop_nonce", "n1"), ok},
			expectNonces: []string{"", "n1"}, expectStatus: http.StatusOK},
		{name: "nok, retried once only", whenPost: true,
			givenAnswers: []func(http.ResponseWriter){asAuthorizationServer("use_dpop_nonce", "n1"), asAuthorizationServer("use_dpop_nonce", "n2")},
			expectNonces: []string{"", "n1"}, expectStatus: http.StatusBadRequest},
		{name: "nok, use_dpop_nonce without a DPoP-Nonce header", whenPost: true,
			givenAnswers: []func(http.ResponseWriter){asAuthorizationServer("use_dpop_nonce", ""), ok},
			expectNonces: []string{""}, expectStatus: http.StatusBadRequest},
		{name: "nok, another error with a DPoP-Nonce header", whenPost: true,
			givenAnswers: []func(http.ResponseWriter){asAuthorizationServer("invalid_dpop_proof", "n1"), ok},
			expectNonces: []string{""}, expectStatus: http.StatusBadRequest},
		{name: "nok, a resource server's other error",
			givenAnswers: []func(http.ResponseWriter){asResourceServer("invalid_token", "n1"), ok},
			expectNonces: []string{""}, expectStatus: http.StatusUnauthorized},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := &nonceServer{answers: tc.givenAnswers}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			c := newTestClient(t)
			ctx := context.Background()
			var resp *http.Response
			var err error
			if tc.whenPost {
				resp, _, err = c.post(ctx, ts.URL+"/token", nil)
			} else {
				resp, _, err = c.Get(ctx, ts.URL+"/api/me", &Token{AccessToken: "at", TokenType: "DPoP"})
			}
			require.NoError(t, err)
			assert.Equal(t, tc.expectStatus, resp.StatusCode)
			assert.Equal(t, tc.expectNonces, srv.nonces)
		})
	}
}

// The last nonce of a server is sent with the next request to it from the
// start, and to no other server.
func TestDoRemembersTheNoncePerServer(t *testing.T) {
	t.Parallel()
	first := &nonceServer{answers: []func(http.ResponseWriter){asAuthorizationServer("use_dpop_nonce", "n1"), ok}}
	other := &nonceServer{answers: []func(http.ResponseWriter){ok}}
	ts1, ts2 := httptest.NewServer(first), httptest.NewServer(other)
	defer ts1.Close()
	defer ts2.Close()
	c := newTestClient(t)
	ctx := context.Background()

	_, _, err := c.post(ctx, ts1.URL+"/par", nil)
	require.NoError(t, err)
	_, _, err = c.post(ctx, ts1.URL+"/token", nil)
	require.NoError(t, err)
	_, _, err = c.post(ctx, ts2.URL+"/token", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"", "n1", "n1"}, first.nonces)
	assert.Equal(t, []string{""}, other.nonces)
}
