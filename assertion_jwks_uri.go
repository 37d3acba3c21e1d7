package oauth2server

import (
	"context"
	"crypto/tls"
	stderrors "errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxJWKSURIs bounds the key sets fetched from jwks_uri that are kept in
// memory at once; one per client or trusted issuer that uses one.
const maxJWKSURIs = 1024

// maxJWKSCacheTTL caps how long a fetched key set is trusted, whatever
// its max-age says, so that a client's key rotation is seen within a day.
const maxJWKSCacheTTL = 24 * time.Hour

var (
	errJWKSURI      = stderrors.New("jwks_uri must be an absolute https URL without user information or fragment")
	errJWKSRedirect = stderrors.New("jwks_uri answered with a redirect, which is not followed")
	errJWKSAddress  = stderrors.New("jwks_uri resolves to a loopback, private, link-local or otherwise non-public address")
	errJWKSTooLarge = stderrors.New("jwks_uri answered with more than the maximum JWK Set size")
)

// jwksFetcher fetches and caches the key sets of jwks_uri registrations
// https only, no redirects, public destinations only (checked on
// the address actually dialled, so DNS cannot rebind it), timeouts and a
// size cap, cached by max-age within [JWKSMinRefreshInterval,
// maxJWKSCacheTTL], refetched on an unknown kid at most once per
// JWKSMinRefreshInterval.
type jwksFetcher struct {
	client *http.Client
	opts   *AssertionOptions
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*jwksEntry
}

// jwksEntry is the cached state of one jwks_uri. Its own lock is held
// while it is fetched, so concurrent requests for one URI fetch once.
type jwksEntry struct {
	mu        sync.Mutex
	keys      map[string]*keySet // parsed per pinned algorithm
	body      []byte
	expires   time.Time
	lastFetch time.Time
	err       error // of the last fetch, when it failed
}

func newJWKSFetcher(o *AssertionOptions, now func() time.Time) *jwksFetcher {
	f := &jwksFetcher{opts: o, now: now, entries: make(map[string]*jwksEntry)}
	dialer := &net.Dialer{Timeout: o.JWKSTimeout, Control: f.checkDial}
	transport := &http.Transport{
		// No proxy: one from the environment would dial for us, past the
		// destination check.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    o.JWKSTimeout,
		ResponseHeaderTimeout:  o.JWKSTimeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConns:           16,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	f.client = &http.Client{
		Transport: transport,
		Timeout:   o.JWKSTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errJWKSRedirect
		},
	}
	return f
}

// checkDial refuses to connect to anything but a public unicast address,
// or a loopback one with AllowLoopbackJWKSURI.
func (f *jwksFetcher) checkDial(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	if !f.publicAddress(a.Unmap()) {
		return errJWKSAddress
	}
	return nil
}

// nonPublic are ranges that are neither loopback, private nor link-local
// to package netip, yet reach no public host: "this network", shared
// address space (RFC 6598), IETF protocol assignments, documentation and
// benchmarking ranges, reserved and NAT64 (which can map to private IPv4).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"),
}

func (f *jwksFetcher) publicAddress(a netip.Addr) bool {
	if a.IsLoopback() {
		return f.opts.AllowLoopbackJWKSURI
	}
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		// IsGlobalUnicast is false for unspecified, link-local, multicast
		// and broadcast addresses.
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// checkURI accepts an absolute https URL without user information or
// fragment; http only for a loopback host with AllowLoopbackJWKSURI.
func (f *jwksFetcher) checkURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errJWKSURI
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if f.opts.AllowLoopbackJWKSURI && isLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return errJWKSURI
}

// keys returns the key set at uri, parsed for the pinned algorithm. It
// fetches the set when it is not cached or has expired, and again when
// the cached set has no key kid (a rotation), unless the last fetch was
// less than JWKSMinRefreshInterval ago. A failed fetch is remembered for
// that interval too, so a broken jwks_uri costs one fetch per interval.
func (f *jwksFetcher) keys(ctx context.Context, uri, kid, pinned string) (*keySet, error) {
	if err := f.checkURI(uri); err != nil {
		return nil, err
	}
	e := f.entry(uri)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := f.now()
	fresh := e.body != nil && now.Before(e.expires)
	mayFetch := e.lastFetch.IsZero() || now.Sub(e.lastFetch) >= f.opts.JWKSMinRefreshInterval
	if fresh {
		ks, err := e.parsed(pinned)
		if err != nil || kid == "" || ks.hasKID(kid) || !mayFetch {
			return ks, err
		}
	} else if !mayFetch {
		if e.err != nil {
			return nil, e.err
		}
		if e.body != nil {
			// Expired, but refetched moments ago: a clock that moved.
			return e.parsed(pinned)
		}
	}
	e.lastFetch = now
	body, ttl, err := f.fetch(ctx, uri)
	if err != nil {
		e.err = err
		return nil, err
	}
	// Parse before caching: a set that is not a JWK Set is a failed fetch.
	ks, err := parseKeySet(body, pinned)
	if err != nil {
		e.err = err
		return nil, err
	}
	e.body, e.err, e.expires = body, nil, now.Add(ttl)
	e.keys = map[string]*keySet{pinned: ks}
	return ks, nil
}

// parsed returns the entry's set for pinned, parsing it once.
func (e *jwksEntry) parsed(pinned string) (*keySet, error) {
	if ks := e.keys[pinned]; ks != nil {
		return ks, nil
	}
	ks, err := parseKeySet(e.body, pinned)
	if err != nil {
		return nil, err
	}
	e.keys[pinned] = ks
	return ks, nil
}

// entry returns the cache entry of uri, making room when the cache is
// full by dropping expired entries, or else all of them.
func (f *jwksFetcher) entry(uri string) *jwksEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.entries[uri]; e != nil {
		return e
	}
	if len(f.entries) >= maxJWKSURIs {
		now := f.now()
		for k, e := range f.entries {
			if e.mu.TryLock() {
				if !now.Before(e.expires) {
					delete(f.entries, k)
				}
				e.mu.Unlock()
			}
		}
		if len(f.entries) >= maxJWKSURIs {
			clear(f.entries)
		}
	}
	e := &jwksEntry{}
	f.entries[uri] = e
	return e
}

// fetch GETs the JWK Set at uri and returns its body and how long to
// cache it.
func (f *jwksFetcher) fetch(ctx context.Context, uri string) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, 0, errJWKSURI
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("fetch jwks_uri: status %d", resp.StatusCode)
	}
	limit := f.opts.JWKSMaxBytes
	if resp.ContentLength > limit {
		return nil, 0, errJWKSTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, 0, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, 0, errJWKSTooLarge
	}
	return body, f.cacheTTL(resp.Header.Get("Cache-Control")), nil
}

// cacheTTL is the max-age of a Cache-Control value within
// [JWKSMinRefreshInterval, maxJWKSCacheTTL]; JWKSCacheTTL without one.
// no-store and no-cache mean the minimum.
func (f *jwksFetcher) cacheTTL(cc string) time.Duration {
	ttl := f.opts.JWKSCacheTTL
	for d := range strings.SplitSeq(cc, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		switch {
		case d == "no-store" || d == "no-cache":
			return f.opts.JWKSMinRefreshInterval
		case strings.HasPrefix(d, "max-age="):
			if n, err := strconv.ParseInt(strings.Trim(d[len("max-age="):], `"`), 10, 64); err == nil && n >= 0 {
				ttl = time.Duration(min(n, int64(maxJWKSCacheTTL/time.Second))) * time.Second
			}
		}
	}
	return min(max(ttl, f.opts.JWKSMinRefreshInterval), maxJWKSCacheTTL)
}
