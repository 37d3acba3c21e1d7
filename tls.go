package oauth2server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

var errTLSRequired = oerrors.ErrInvalidRequest.WithDescription("The endpoint requires TLS (https).")

// parseProxies parses [Options.TrustedProxies] once, in New.
func parseProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, p := range list {
		if strings.Contains(p, "/") {
			pfx, err := netip.ParsePrefix(p)
			if err != nil {
				return nil, errorf("TrustedProxies: %q is not an IP address or CIDR prefix", p)
			}
			out = append(out, pfx.Masked())
			continue
		}
		addr, err := netip.ParseAddr(p)
		if err != nil {
			return nil, errorf("TrustedProxies: %q is not an IP address or CIDR prefix", p)
		}
		addr = addr.Unmap()
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return out, nil
}

// CheckTLS reports whether r may be served under [Options.RequireTLS]: it
// arrived over TLS, or from a trusted proxy (Options.TrustedProxies) that
// says with X-Forwarded-Proto that it did. Every endpoint of the Server
// calls it first; the middleware package calls it for protected resources
// (RFC 6750 §5.3). The error is invalid_request, which the authorization
// endpoint shows to the user instead of redirecting.
func (s *Server) CheckTLS(r *http.Request) error {
	if !s.opts.RequireTLS || r.TLS != nil {
		return nil
	}
	if len(s.proxies) == 0 {
		return errTLSRequired
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return errTLSRequired
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return errTLSRequired
	}
	peer = peer.Unmap()
	for _, p := range s.proxies {
		if p.Contains(peer) {
			// A trusted proxy sanitises the header (RFC 9700 §4.13), so
			// exactly one value is expected; anything else is refused.
			v := r.Header.Values("X-Forwarded-Proto")
			if len(v) == 1 && strings.EqualFold(strings.TrimSpace(v[0]), "https") {
				return nil
			}
			return errTLSRequired
		}
	}
	return errTLSRequired
}
