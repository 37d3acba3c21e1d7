package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// scrape reads /metrics as Prometheus does and returns every sample by its
// series, e.g. `oauth2server_tokens_issued_total{grant_type="password"}`
// (labels sorted by name), and the raw text.
func scrape(t *testing.T, base string) (map[string]float64, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+metricsPath, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		require.Positive(t, i, "sample line %q", line)
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, "sample line %q", line)
		samples[line[:i]] = v
	}
	return samples, string(b)
}

// postToken posts form to the token endpoint, with Basic credentials when
// id is not empty, and returns the status.
func postToken(t *testing.T, base, id, secret string, form url.Values) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+tokenPath, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

// do sends a request without a body and returns the status.
func do(t *testing.T, method, u string, header http.Header) int {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

// A token request, errors of several kinds and a stranger's paths, methods
// and grant types: the counters move under the route pattern, the grant
// type and the error code, and nothing the stranger chose becomes a label.
func TestMetrics(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	before, _ := scrape(t, ts.base)
	assert.Contains(t, before, `oauth2server_tokens_issued_total{grant_type="client_credentials"}`, "created at zero")
	assert.Contains(t, before, `oauth2server_tokens_issued_total{grant_type="authorization_code"}`)
	assert.Contains(t, before, "go_goroutines")

	// A token, and the API with it.
	cc := clientcredentials.Config{ClientID: demoConfidentialClient, ClientSecret: demoClientSecret,
		TokenURL: ts.base + tokenPath, Scopes: []string{"read"}}
	status, _ := apiGet(t, cc.Client(context.Background()), ts.base+mePath)
	require.Equal(t, http.StatusOK, status)
	// Refused token requests.
	require.Equal(t, http.StatusBadRequest, postToken(t, ts.base, demoConfidentialClient, demoClientSecret,
		url.Values{"grant_type": {"stranger-grant-1"}}))
	require.Equal(t, http.StatusUnauthorized, postToken(t, ts.base, demoConfidentialClient, "wrong",
		url.Values{"grant_type": {"client_credentials"}}))
	require.Equal(t, http.StatusMethodNotAllowed, do(t, "STRANGERMETHOD", ts.base+tokenPath, nil))
	// The API with a bad token; a path nobody routes.
	require.Equal(t, http.StatusUnauthorized, do(t, http.MethodGet, ts.base+mePath,
		http.Header{"Authorization": {"Bearer not-a-token"}}))
	require.Equal(t, http.StatusNotFound, do(t, http.MethodGet, ts.base+"/stranger-path-1/x", nil))
	require.Equal(t, http.StatusNotFound, do(t, http.MethodGet, ts.base+"/static/stranger-path-2", nil))
	// A user denies consent: the authorization endpoint redirects with
	// error=access_denied.
	conf := ts.codeClient("read")
	c := browser(t)
	page := ts.consentPage(t, c, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	require.Equal(t, http.StatusSeeOther, ts.decide(t, c, page, "deny").StatusCode)

	after, text := scrape(t, ts.base)
	moved := func(series string) float64 { return after[series] - before[series] }
	for series, expect := range map[string]float64{
		`oauth2server_http_requests_total{code="200",method="POST",route="/oauth/token"}`:                 1,
		`oauth2server_http_requests_total{code="400",method="POST",route="/oauth/token"}`:                 1,
		`oauth2server_http_requests_total{code="401",method="POST",route="/oauth/token"}`:                 1,
		`oauth2server_http_requests_total{code="405",method="other",route="/oauth/token"}`:                1,
		`oauth2server_http_requests_total{code="200",method="GET",route="/api/me"}`:                       1,
		`oauth2server_http_requests_total{code="401",method="GET",route="/api/me"}`:                       1,
		`oauth2server_http_requests_total{code="404",method="GET",route="unmatched"}`:                     1,
		`oauth2server_http_requests_total{code="404",method="GET",route="/static*"}`:                      1,
		`oauth2server_http_requests_total{code="303",method="POST",route="/oauth/authorize"}`:             1,
		`oauth2server_http_request_duration_seconds_count{code="200",method="POST",route="/oauth/token"}`: 1,
		`oauth2server_tokens_issued_total{grant_type="client_credentials"}`:                               1,
		`oauth2server_tokens_issued_total{grant_type="other"}`:                                            0,
		`oauth2server_oauth_errors_total{error="unsupported_grant_type",route="/oauth/token"}`:            1,
		`oauth2server_oauth_errors_total{error="invalid_client",route="/oauth/token"}`:                    1,
		`oauth2server_oauth_errors_total{error="invalid_token",route="/api/me"}`:                          1,
		`oauth2server_oauth_errors_total{error="access_denied",route="/oauth/authorize"}`:                 1,
		`oauth2server_model_call_duration_seconds_count{method="SaveToken",result="ok"}`:                  1,
		`oauth2server_model_call_duration_seconds_count{method="GetUser",result="ok"}`:                    1,
		`oauth2server_model_call_duration_seconds_count{method="GetAccessToken",result="ok"}`:             2, // the API, twice
	} {
		assert.Equal(t, expect, moved(series), series)
	}
	assert.GreaterOrEqual(t, moved(`oauth2server_model_call_duration_seconds_count{method="GetClient",result="ok"}`), 3.0,
		"one per token request that named a client")
	assert.Equal(t, 1.0, after["oauth2server_http_requests_in_flight"], "the scrape itself")
	for _, chosen := range []string{"stranger-grant-1", "STRANGERMETHOD", "stranger-path-1", "stranger-path-2", "not-a-token"} {
		assert.NotContains(t, text, chosen, "a value the client chose is no label")
	}
}

func TestMetricsLabels(t *testing.T) {
	t.Parallel()
	m := newMetrics()
	m.setGrants([]string{"client_credentials", "urn:ietf:params:oauth:grant-type:device_code"}, 1<<16)
	for body, expect := range map[string]string{
		"grant_type=client_credentials&scope=read":                          "client_credentials",
		"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code": "urn:ietf:params:oauth:grant-type:device_code",
		"grant_type=password":  "other", // not enabled
		"grant_type=anything":  "other",
		"":                     "other",
		"grant_type=%zz":       "other",
		"scope=read&grant_typ": "other",
	} {
		assert.Equal(t, expect, m.grantLabel([]byte(body)), body)
	}

	for h, expect := range map[string]string{
		`Bearer realm="example", error="invalid_token", error_description="The access token expired"`: "invalid_token",
		`Bearer error="insufficient_scope", scope="write"`:                                            "insufficient_scope",
		`Bearer realm="example"`:     "",
		`Basic realm="example"`:      "",
		`Bearer error=invalid_token`: "invalid_token",
		``:                           "",
	} {
		assert.Equal(t, expect, challengeError(h), h)
	}
}

// /healthz asks nothing of the store; /readyz in memory is always ready.
func TestHealth(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	for path, expect := range map[string]string{healthPath: "ok\n", readyPath: "ready\n"} {
		resp, body := get(t, http.DefaultClient, ts.base+path)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Equal(t, expect, body, path)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"), path)
		assert.Equal(t, http.StatusOK, do(t, http.MethodHead, ts.base+path, nil), "HEAD %s", path)
	}
}

// The operational endpoints answer over plain HTTP even where the pages
// require TLS: probes and scrapers reach the instance directly.
func TestOperationsWithoutTLS(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{Issuer: "https://as.example.com"})
	for _, path := range []string{healthPath, readyPath, metricsPath} {
		assert.Equal(t, http.StatusOK, do(t, http.MethodGet, ts.base+path, nil), path)
	}
	assert.Equal(t, http.StatusBadRequest, do(t, http.MethodGet, ts.base+loginPath, nil), "a page still requires TLS")
}

// cutProxy forwards TCP connections to a MongoDB server until it is cut,
// then refuses them, until it is restored on the same address: to the
// example, MongoDB stops and comes back, while the server other tests use
// runs on.
type cutProxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	p := &cutProxy{t: t, target: target, addr: "127.0.0.1:0", conns: map[net.Conn]bool{}}
	p.restore()
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.cut)
	return p
}

// restore listens (again) and forwards.
func (p *cutProxy) restore() {
	p.t.Helper()
	var ln net.Listener
	require.Eventually(p.t, func() bool {
		var err error
		ln, err = net.Listen("tcp", p.addr)
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "listen again on %s", p.addr)
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *cutProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	_, _ = io.Copy(c, up)
	_ = c.Close()
}

// cut closes the listener and every connection.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// /readyz pings MongoDB: 503 while it does not answer, 200 again once it
// does; /healthz stays 200 throughout.
func TestReadyzMongo(t *testing.T) {
	t.Parallel()
	uri, err := url.Parse(mongoURI(t))
	require.NoError(t, err)
	p := newCutProxy(t, uri.Host)
	uri.Host = p.addr
	ts := startApp(t, appConfig{MongoURI: uri.String(), SessionKey: newSessionKey(t)})

	require.Equal(t, http.StatusOK, do(t, http.MethodGet, ts.base+readyPath, nil))
	p.cut()
	require.Eventually(t, func() bool {
		return do(t, http.MethodGet, ts.base+readyPath, nil) == http.StatusServiceUnavailable
	}, 15*time.Second, 100*time.Millisecond, "not ready once MongoDB is gone")
	resp, body := get(t, http.DefaultClient, ts.base+readyPath)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "not ready\n", body, "no cause for the prober")
	assert.Equal(t, http.StatusOK, do(t, http.MethodGet, ts.base+healthPath, nil), "alive all the same")

	p.restore()
	require.Eventually(t, func() bool {
		return do(t, http.MethodGet, ts.base+readyPath, nil) == http.StatusOK
	}, 20*time.Second, 100*time.Millisecond, "ready once MongoDB is back")
}

// Probes share one check per readyTTL: a flood of /readyz pings the store
// once.
func TestReadinessCached(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	pings := 0
	r := &readiness{logger: slog.New(slog.NewTextHandler(io.Discard, nil)), check: func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		pings++
		return errors.New("down")
	}}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { assert.False(t, r.ready(context.Background())) })
	}
	wg.Wait()
	assert.Equal(t, 1, pings)
}
