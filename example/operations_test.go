package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

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
