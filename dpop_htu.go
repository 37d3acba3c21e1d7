package oauth2server

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// requestHTU is the URL a proof's htu must name, normalized: the
// RequestURL hook's, or the one of the request itself, built without
// parsing a URL.
func (s *Server) requestHTU(r *http.Request) (string, bool) {
	if f := s.dpop.opts.RequestURL; f != nil {
		return normalizeHTU(f(r))
	}
	scheme := "http"
	if r.TLS != nil || s.forwardedHTTPS(r) {
		scheme = "https"
	}
	host, port := r.Host, ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host, port = host[:i], host[i+1:]
	}
	if host == "" {
		return "", false
	}
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	return joinHTU(scheme, strings.ToLower(host), port, path), true
}

// forwardedHTTPS reports whether r comes from a trusted proxy that says
// with X-Forwarded-Proto that the client used https.
func (s *Server) forwardedHTTPS(r *http.Request) bool {
	if len(s.proxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trustedProxy(peer.Unmap()) {
		return false
	}
	v := r.Header.Values("X-Forwarded-Proto")
	return len(v) == 1 && strings.EqualFold(strings.TrimSpace(v[0]), "https")
}

// normalizeHTU reduces an http(s) URL to the form two URLs of one
// resource share (RFC 3986 §6.2.2, §6.2.3): scheme and host in lower case,
// no default port, an empty path as "/", the path decoded, and no query or
// fragment, which htu ignores (RFC 9449 §4.3).
func normalizeHTU(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	return joinHTU(scheme, host, u.Port(), path), true
}

// joinHTU is the normalized URL of its parts: no default port.
func joinHTU(scheme, host, port, path string) string {
	if port == "" || scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		return scheme + "://" + host + path
	}
	return scheme + "://" + host + ":" + port + path
}
