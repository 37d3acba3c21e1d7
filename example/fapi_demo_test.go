package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server/example/internal/fapiclient"
)

// The FAPI demo (docs/fapi.md): the example started with -fapi and the
// config file fapiclient writes, and the client walking PAR → login →
// consent → code → DPoP-bound token → /api/me, with the user's browser
// driven over HTTP.
func TestFAPIDemo(t *testing.T) {
	t.Parallel()
	key, data := fapiDemoConfig(t)
	ts := startApp(t, appConfig{FAPI: true, Data: data})
	ctx := context.Background()
	c := &fapiclient.Client{
		Issuer: ts.base, ClientID: fapiclient.DemoClientID, RedirectURI: fapiclient.DemoRedirectURI,
		Scope: fapiclient.DemoScope, Key: key,
	}
	require.NoError(t, c.Discover(ctx))
	p, err := c.Push(ctx)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, p.Status)
	require.True(t, strings.HasPrefix(p.AuthURL, ts.base+authorizePath+"?"), p.AuthURL)

	// The user: sign in, approve; the browser lands on the https redirect
	// URI, whose address the user pastes into the client.
	b := browser(t)
	page := ts.consentPage(t, b, p.AuthURL)
	resp := ts.decide(t, b, page, "approve")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, fapiclient.DemoRedirectURI+"?"), loc)
	code, err := p.Code(c, loc)
	require.NoError(t, err)
	require.NotEmpty(t, code)

	tok, err := c.Exchange(ctx, p, code)
	require.NoError(t, err)
	assert.Equal(t, "DPoP", tok.TokenType)

	resp, body, err := c.Get(ctx, ts.base+mePath, tok)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"client_id":"`+fapiclient.DemoClientID+`"`)
	assert.Contains(t, string(body), `"sub":"`+demoUsername+`"`)

	// The same token as a bearer token is refused: it is bound to the key.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.base+mePath, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	bearer, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, bearer.Body.Close())
	assert.Equal(t, http.StatusUnauthorized, bearer.StatusCode)

	// A state that is not the request's is refused.
	_, err = p.Code(c, fapiclient.DemoRedirectURI+"?"+url.Values{"code": {code}, "state": {"other"}, "iss": {ts.base}}.Encode())
	assert.Error(t, err)
}

// fapiDemoConfig makes the client's key as the docs do, and the example's
// configuration file from it, as fapiclient's config command writes it.
func fapiDemoConfig(t *testing.T) (*ecdsa.PrivateKey, *fileConfig) {
	t.Helper()
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	keyFile := filepath.Join(dir, "fapi-client.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	key, err = fapiclient.LoadKey(keyFile) // as the program reads it
	require.NoError(t, err)

	cfgJSON, err := fapiclient.Config("", key)
	require.NoError(t, err)
	cfgFile := filepath.Join(dir, "fapi-config.json")
	require.NoError(t, os.WriteFile(cfgFile, cfgJSON, 0o600))
	data, err := loadConfigFile(cfgFile)
	require.NoError(t, err)
	require.True(t, data.Clients[0].DPoPBoundAccessTokens)
	return key, data
}

// exchange is one request of the client and its answer, as seen on the
// wire.
type exchange struct {
	path       string
	proofNonce string // the nonce claim of the request's DPoP proof
	status     int
	nonce      string // the DPoP-Nonce header of the answer
	challenge  string // the WWW-Authenticate header of the answer
	body       string
}

// wireLog is a RoundTripper that records the client's exchanges.
type wireLog struct {
	mu        sync.Mutex
	exchanges []exchange
}

func (l *wireLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	x := exchange{path: r.URL.Path, proofNonce: proofNonce(r.Header.Get("DPoP")), status: resp.StatusCode,
		nonce: resp.Header.Get("DPoP-Nonce"), challenge: resp.Header.Get("WWW-Authenticate"), body: string(body)}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.exchanges = append(l.exchanges, x)
	return resp, nil
}

// take returns the exchanges since the last take.
func (l *wireLog) take() []exchange {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.exchanges
	l.exchanges = nil
	return out
}

// proofNonce is the nonce claim of a DPoP proof, read without verifying
// it (the server did), "" for none.
func proofNonce(proof string) string {
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Nonce string `json:"nonce"`
	}
	_ = json.Unmarshal(b, &claims)
	return claims.Nonce
}

// nonceRetried checks the exchanges of one step: refused with
// use_dpop_nonce and a new nonce for want of the current one, then
// accepted with the nonce of the refusal. It returns that nonce.
func nonceRetried(t *testing.T, x []exchange, path string, refused, accepted int, staleNonce string) string {
	t.Helper()
	require.Len(t, x, 2, "a refusal and one retry: %+v", x)
	assert.Equal(t, path, x[0].path)
	assert.Equal(t, path, x[1].path)
	assert.Equal(t, staleNonce, x[0].proofNonce)
	require.Equal(t, refused, x[0].status, x[0].body)
	if refused == http.StatusUnauthorized {
		// A resource server challenges (RFC 9449 §9).
		assert.True(t, strings.HasPrefix(x[0].challenge, "DPoP "), x[0].challenge)
		assert.Contains(t, x[0].challenge, `error="use_dpop_nonce"`)
	} else {
		assert.Contains(t, x[0].body, `"error":"use_dpop_nonce"`)
	}
	require.NotEmpty(t, x[0].nonce, "use_dpop_nonce carries a DPoP-Nonce header")
	assert.NotEqual(t, staleNonce, x[0].nonce)
	assert.Equal(t, x[0].nonce, x[1].proofNonce, "the retry's proof carries the new nonce")
	require.Equal(t, accepted, x[1].status, x[1].body)
	return x[0].nonce
}

// The FAPI demo with -dpop-nonce (docs/fapi.md): every DPoP proof must
// carry a nonce of the server. The client's first proof has none, and its
// nonce goes stale while the user signs in and again before it calls the
// API; each time the server answers use_dpop_nonce with a fresh nonce (400
// at the PAR and token endpoints, 401 with a DPoP challenge at /api/me)
// and the client retries once with it (RFC 9449 §8, §9).
func TestFAPIDemoWithDPoPNonces(t *testing.T) {
	t.Parallel()
	const nonceLifetime = 10 * time.Second // stale after two, well within the code's 60 s
	key, data := fapiDemoConfig(t)
	clock := newTestClock()
	ts := startApp(t, appConfig{FAPI: true, DPoPNonce: true, Data: data, now: clock.Now, dpopNonceLifetime: nonceLifetime})
	wire := &wireLog{}
	ctx := context.Background()
	c := &fapiclient.Client{
		Issuer: ts.base, ClientID: fapiclient.DemoClientID, RedirectURI: fapiclient.DemoRedirectURI,
		Scope: fapiclient.DemoScope, Key: key, HTTP: &http.Client{Transport: wire}, Now: clock.Now,
	}
	require.NoError(t, c.Discover(ctx))
	wire.take()

	p, err := c.Push(ctx)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, p.Status)
	nonce := nonceRetried(t, wire.take(), oauthPrefix+"/par", http.StatusBadRequest, http.StatusCreated, "")

	b := browser(t)
	resp := ts.decide(t, b, ts.consentPage(t, b, p.AuthURL), "approve")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	code, err := p.Code(c, resp.Header.Get("Location"))
	require.NoError(t, err)

	clock.Add(2 * nonceLifetime) // the user took a while
	tok, err := c.Exchange(ctx, p, code)
	require.NoError(t, err)
	assert.Equal(t, "DPoP", tok.TokenType)
	x := wire.take()
	nonce = nonceRetried(t, x, tokenPath, http.StatusBadRequest, http.StatusOK, nonce)
	assert.Equal(t, nonce, x[1].nonce, "the token response carries the current nonce")

	clock.Add(2 * nonceLifetime)
	resp, body, err := c.Get(ctx, ts.base+mePath, tok)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"client_id":"`+fapiclient.DemoClientID+`"`)
	nonceRetried(t, wire.take(), mePath, http.StatusUnauthorized, http.StatusOK, nonce)
}
