package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// forwardedProto is a transport that sends X-Forwarded-Proto, as a
// TLS-terminating proxy in front of the example does.
type forwardedProto struct {
	proto string
	next  http.RoundTripper
}

func (f forwardedProto) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-Proto", f.proto)
	return f.next.RoundTrip(r)
}

// behindProxy returns c sending X-Forwarded-Proto: proto with every request.
func behindProxy(c *http.Client, proto string) *http.Client {
	cp := *c
	cp.Transport = forwardedProto{proto: proto, next: http.DefaultTransport}
	return &cp
}

// with an https issuer the example's own pages follow the
// library's TLS rule (Server.CheckTLS), as its OAuth endpoints do: a
// request that did not reach a trusted proxy over TLS is refused with a
// page, never redirected.
func TestPagesRequireTLS(t *testing.T) {
	t.Parallel()
	pages := []struct {
		method, path string
	}{
		{http.MethodGet, "/"},
		{http.MethodGet, loginPath},
		{http.MethodPost, loginPath},
		{http.MethodPost, logoutPath},
		{http.MethodGet, callbackPath + "?code=x&state=y"},
		{http.MethodGet, demoPath},
		{http.MethodGet, devicePath},
		{http.MethodPost, devicePath},
	}
	var testCases = []struct {
		name         string
		givenIssuer  string
		givenProxies []string
		whenProto    string
		expectRefuse bool
	}{
		{name: "nok, https issuer, plain HTTP from a non-proxy", givenIssuer: "https://auth.example.com", expectRefuse: true},
		{name: "nok, https issuer, a non-proxy claims https", givenIssuer: "https://auth.example.com", whenProto: "https", expectRefuse: true},
		{name: "nok, https issuer, the proxy received plain HTTP", givenIssuer: "https://auth.example.com",
			givenProxies: []string{"127.0.0.1"}, whenProto: "http", expectRefuse: true},
		{name: "ok, https issuer, the proxy received TLS", givenIssuer: "https://auth.example.com",
			givenProxies: []string{"127.0.0.1"}, whenProto: "https"},
		{name: "ok, http loopback issuer"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startApp(t, appConfig{Issuer: tc.givenIssuer, TrustedProxies: tc.givenProxies})
			c := browser(t)
			if tc.whenProto != "" {
				c = behindProxy(c, tc.whenProto)
			}
			for _, p := range pages {
				var resp *http.Response
				var body string
				if p.method == http.MethodPost {
					resp, body = post(t, c, ts.base+p.path, url.Values{"username": {demoUsername}, "password": {demoPassword}})
				} else {
					resp, body = get(t, c, ts.base+p.path)
				}
				if tc.expectRefuse {
					assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s %s", p.method, p.path)
					assert.Contains(t, body, "HTTPS", "%s %s", p.method, p.path)
					assert.Empty(t, resp.Header.Get("Location"), "refused, not redirected")
					assert.Empty(t, resp.Cookies(), "no session for a refused request")
					assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
					continue
				}
				assert.NotEqual(t, http.StatusBadRequest, resp.StatusCode, "%s %s: %s", p.method, p.path, body)
				assert.False(t, strings.Contains(body, "requires HTTPS"), "%s %s", p.method, p.path)
			}
		})
	}
}
