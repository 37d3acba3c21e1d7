package oauth2server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testFetcher is a jwksFetcher with default options on a fixed clock.
func testFetcher(t *testing.T, allowLoopback bool) (*jwksFetcher, *time.Time) {
	t.Helper()
	o := &AssertionOptions{AllowLoopbackJWKSURI: allowLoopback, JWKSTimeout: 2 * time.Second}
	require.NoError(t, o.fill())
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return newJWKSFetcher(o, func() time.Time { return now }), &now
}

const emptySet = `{"keys":[]}`

// https only (http on loopback with the test option), public
// destinations only, checked on the dialled address, no redirects, a size
// cap, 200 only.
func TestJWKSFetcherRefuses(t *testing.T) {
	ctx := context.Background()
	redirect := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	t.Cleanup(redirect.Close)
	large := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", DefaultJWKSMaxBytes) + `"}`))
	}))
	t.Cleanup(large.Close)
	missing := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(missing.Close)
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }))
	t.Cleanup(notJSON.Close)
	tlsServer := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(emptySet)) }))
	t.Cleanup(tlsServer.Close)

	tests := []struct {
		name          string
		givenLoopback bool
		whenURI       string
		expectErr     string
	}{
		{"nok, http to a public host", true, "http://jwks.example/keys", errJWKSURI.Error()},
		{"nok, http to loopback without the option", false, "http://127.0.0.1:1/keys", errJWKSURI.Error()},
		{"nok, https to loopback without the option", false, "https://127.0.0.1:1/keys", errJWKSAddress.Error()},
		{"nok, https to localhost without the option", false, "https://localhost:1/keys", errJWKSAddress.Error()},
		{"nok, a private address", true, "https://10.1.2.3/keys", errJWKSAddress.Error()},
		{"nok, a link-local address (cloud metadata)", true, "https://169.254.169.254/latest", errJWKSAddress.Error()},
		{"nok, an IPv6 unique local address", true, "https://[fd00::1]/keys", errJWKSAddress.Error()},
		{"nok, an IPv4-mapped loopback address", false, "https://[::ffff:127.0.0.1]:1/keys", errJWKSAddress.Error()},
		{"nok, shared address space", true, "https://100.64.0.1/keys", errJWKSAddress.Error()},
		{"nok, the unspecified address", true, "https://0.0.0.0/keys", errJWKSAddress.Error()},
		{"nok, user information", true, "https://user:pw@jwks.example/keys", errJWKSURI.Error()},
		{"nok, a fragment", true, "https://jwks.example/keys#frag", errJWKSURI.Error()},
		{"nok, not absolute", true, "/keys", errJWKSURI.Error()},
		{"nok, a redirect is not followed", true, redirect.URL, errJWKSRedirect.Error()},
		{"nok, larger than the cap", true, large.URL, errJWKSTooLarge.Error()},
		{"nok, not 200", true, missing.URL, "status 404"},
		{"nok, not a JWK Set", true, notJSON.URL, "JWK Set"},
		{"nok, a certificate nobody trusts", true, tlsServer.URL, "certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := testFetcher(t, tc.givenLoopback)
			ks, err := f.keys(ctx, tc.whenURI, "", "")
			require.Error(t, err)
			assert.Nil(t, ks)
			assert.Contains(t, err.Error(), tc.expectErr)
		})
	}
}

func TestJWKSFetcherPublicAddress(t *testing.T) {
	f, _ := testFetcher(t, false)
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "2606:4700::1111": true,
		"127.0.0.1": false, "::1": false, "10.0.0.1": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fc00::1": false, "100.64.0.1": false, "0.0.0.0": false,
		"224.0.0.1": false, "255.255.255.255": false, "192.0.2.1": false, "64:ff9b::a00:1": false, "2001:db8::1": false,
	} {
		assert.Equal(t, want, f.publicAddress(netip.MustParseAddr(addr)), addr)
	}
}

// A failed fetch is remembered for JWKSMinRefreshInterval: a broken
// jwks_uri is asked once per interval, not once per request.
func TestJWKSFetcherRateLimitsFailures(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	f, now := testFetcher(t, true)
	for range 3 {
		_, err := f.keys(context.Background(), srv.URL, "k", "")
		require.Error(t, err)
	}
	assert.Equal(t, int64(1), hits.Load())
	*now = now.Add(DefaultJWKSMinRefreshInterval)
	_, err := f.keys(context.Background(), srv.URL, "k", "")
	require.Error(t, err)
	assert.Equal(t, int64(2), hits.Load())
}

func TestJWKSFetcherCacheTTL(t *testing.T) {
	f, _ := testFetcher(t, true)
	for cc, want := range map[string]time.Duration{
		"":                         DefaultJWKSCacheTTL,
		"max-age=600":              10 * time.Minute,
		"public, max-age=120":      2 * time.Minute,
		"max-age=1":                DefaultJWKSMinRefreshInterval, // at least the refresh interval
		"max-age=9999999":          24 * time.Hour,                // at most a day
		"no-store":                 DefaultJWKSMinRefreshInterval,
		"no-cache, max-age=600":    DefaultJWKSMinRefreshInterval,
		"max-age=banana":           DefaultJWKSCacheTTL,
		`max-age="300"`:            5 * time.Minute,
		"max-age=-5":               DefaultJWKSCacheTTL,
		"private, must-revalidate": DefaultJWKSCacheTTL,
	} {
		assert.Equal(t, want, f.cacheTTL(cc), cc)
	}
}

// The cache holds at most maxJWKSURIs entries.
func TestJWKSFetcherBounded(t *testing.T) {
	f, _ := testFetcher(t, true)
	for i := range maxJWKSURIs + 10 {
		f.entry("https://jwks.example/" + time.Duration(i).String())
	}
	assert.LessOrEqual(t, len(f.entries), maxJWKSURIs)
}
