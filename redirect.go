package oauth2server

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strings"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

var (
	errRedirectMissing  = oerrors.ErrInvalidRequest.WithDescription("The redirect_uri parameter is required for this client.")
	errRedirectSyntax   = oerrors.ErrInvalidRequest.WithDescription("The redirect_uri must be an absolute URI without fragment.")
	errRedirectInsecure = oerrors.ErrInvalidRequest.WithDescription("The redirect_uri must use https; http is allowed only for loopback IP addresses.")
	errRedirectUnknown  = oerrors.ErrInvalidRequest.WithDescription("The redirect_uri is not registered for this client.")
	errRegisteredBad    = oerrors.ErrInvalidRequest.WithDescription("The redirect URI registered for this client is invalid.")
)

// resolveRedirectURI returns the URI the authorization response goes to:
// the requested one if it is registered for client, or the only registered
// one when the request has none (RFC 6749 §3.1.2.3). Every error it returns
// must be shown to the user, never redirected (RFC 6749 §3.1.2.4).
func (s *Server) resolveRedirectURI(ctx context.Context, client *Client, requested string) (string, error) {
	if requested == "" {
		// Without a model validator the registration is the only truth;
		// with one, the model may accept URIs it does not list, so the
		// request must name the URI.
		if len(client.RedirectURIs) != 1 || s.redirects != nil {
			return "", errRedirectMissing
		}
		if err := checkRedirectURI(client.RedirectURIs[0]); err != nil {
			return "", errRegisteredBad
		}
		return client.RedirectURIs[0], nil
	}
	if err := checkRedirectURI(requested); err != nil {
		return "", err
	}
	ok, err := s.redirectRegistered(ctx, client, requested)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errRedirectUnknown
	}
	return requested, nil
}

// redirectRegistered matches uri against the client's registration: the
// model's RedirectURIValidator when present, else exact string comparison
// (RFC 9700 §4.1.3, no normalisation at all), plus a variable port on
// loopback IP literals for public (native) clients only (RFC 8252 §7.3).
func (s *Server) redirectRegistered(ctx context.Context, client *Client, uri string) (bool, error) {
	if s.redirects != nil {
		ok, err := s.redirects.ValidateRedirectURI(ctx, uri, client)
		if err != nil {
			return false, storeError("ValidateRedirectURI", err)
		}
		return ok, nil
	}
	if slices.Contains(client.RedirectURIs, uri) {
		return true, nil
	}
	if !client.IsPublic() {
		return false, nil
	}
	key, ok := loopbackKey(uri)
	if !ok {
		return false, nil
	}
	for _, reg := range client.RedirectURIs {
		if k, ok := loopbackKey(reg); ok && k == key {
			return true, nil
		}
	}
	return false, nil
}

// loopbackKey strips the port from an http URI on a loopback IP literal
// ("http://127.0.0.1:51004/cb" becomes "http://127.0.0.1/cb"). It works on
// the raw text so that nothing but the port may differ: userinfo, another
// host or different case all fail the prefix or the character after it.
func loopbackKey(uri string) (string, bool) {
	for _, prefix := range [...]string{"http://127.0.0.1", "http://[::1]"} {
		rest, ok := strings.CutPrefix(uri, prefix)
		if !ok {
			continue
		}
		if strings.HasPrefix(rest, ":") {
			i := 1
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			if i == 1 || i > 6 {
				return "", false
			}
			rest = rest[i:]
		}
		if rest != "" && rest[0] != '/' && rest[0] != '?' {
			return "", false
		}
		return prefix + rest, true
	}
	return "", false
}

// checkRedirectURI enforces what every redirect URI must be, registered or
// not: printable ASCII (no way to inject into a Location header), absolute,
// without fragment or userinfo (RFC 6749 §3.1.2), not a script scheme, and
// https unless it is http on a loopback IP literal (RFC 9700 §2.6, RFC 8252
// §7.3; "localhost" is not accepted, RFC 8252 §8.3).
func checkRedirectURI(raw string) error {
	for i := 0; i < len(raw); i++ {
		if raw[i] <= 0x20 || raw[i] >= 0x7f || raw[i] == '#' {
			return errRedirectSyntax
		}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.User != nil {
		return errRedirectSyntax
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "vbscript", "file":
		return errRedirectSyntax
	case "https":
		if u.Host == "" {
			return errRedirectSyntax
		}
	case "http":
		ip := net.ParseIP(u.Hostname())
		if ip == nil || !ip.IsLoopback() {
			return errRedirectInsecure
		}
	}
	return nil
}

// appendParams adds response parameters to uri without touching what is
// already there: into a new or the existing query (RFC 6749 §3.1.2 keeps
// the registered query) or, for the implicit grant, into the fragment.
// It never parses and re-serialises uri, which would normalise it.
func appendParams(uri string, params url.Values, fragment bool) string {
	enc := params.Encode()
	if fragment {
		return uri + "#" + enc
	}
	i := strings.IndexByte(uri, '?')
	switch {
	case i < 0:
		return uri + "?" + enc
	case i == len(uri)-1 || strings.HasSuffix(uri, "&"):
		return uri + enc
	default:
		return uri + "&" + enc
	}
}
