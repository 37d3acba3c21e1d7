package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
