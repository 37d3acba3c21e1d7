// Package userinfo holds the OpenID Connect UserInfo endpoint (OIDC Core
// §5.3) that packages handlers and nethttp serve: the bearer token from the
// Authorization header or a form body (internal/bearer), the openid scope,
// the claims of [oauth2server.Server.UserInfo], the answers of RFC 6750 §3,
// and CORS for the origins the application lists. It has no hooks, so both
// layers hand it the ResponseWriter and the request and answer alike.
package userinfo

import (
	"encoding/json"
	stderrors "errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/bearer"
)

// The CORS answers: the methods and request headers a browser may use on
// the endpoint, and the response header its script may read.
const (
	AllowMethods  = "GET, POST"
	AllowHeaders  = "Authorization, Content-Type"
	ExposeHeaders = "WWW-Authenticate"
)

var errMethod = oerrors.ErrInvalidRequest.WithStatus(http.StatusMethodNotAllowed).
	WithDescription("The UserInfo endpoint accepts GET, HEAD and POST only.")

// Config is a layer's configuration of the endpoint.
type Config struct {
	// Name prefixes the configuration errors and log messages, e.g.
	// "handlers".
	Name         string
	Server       *oauth2server.Server
	AllowOrigins []string
}

// Endpoint is a checked configuration.
type Endpoint struct {
	srv     *oauth2server.Server
	bearer  bearer.Config
	origins []string // nil: no CORS
	allow   string   // the Allow header of a 405
}

// New checks cfg: a Server that is an OpenID Provider and can verify its
// access tokens, and origins that are exactly scheme://host[:port].
func New(cfg Config) (*Endpoint, error) {
	if cfg.Server == nil {
		return nil, stderrors.New(cfg.Name + ": UserInfoConfig.Server is required")
	}
	if !cfg.Server.OpenIDEnabled() {
		return nil, stderrors.New(cfg.Name + ": the UserInfo endpoint needs an OpenID Provider (Options.OpenID)")
	}
	e := &Endpoint{srv: cfg.Server, allow: "GET, HEAD, POST",
		bearer: bearer.Config{Server: cfg.Server, Scope: []string{oauth2server.ScopeOpenID}, AllowBody: true, Name: cfg.Name}}
	if err := e.bearer.Check(); err != nil {
		return nil, err
	}
	for _, o := range cfg.AllowOrigins {
		if !isOrigin(o) {
			return nil, stderrors.New(cfg.Name + ": UserInfoConfig.AllowOrigins: " + strconv.Quote(o) +
				" is not an origin (scheme://host[:port], no path, no wildcard)")
		}
	}
	if len(cfg.AllowOrigins) > 0 {
		e.origins = slices.Clone(cfg.AllowOrigins)
		e.allow += ", OPTIONS"
	}
	return e, nil
}

// isOrigin reports whether o is a serialized http(s) origin (RFC 6454
// §6.2), which a browser's Origin header equals byte for byte: lower case,
// no path, no wildcard.
func isOrigin(o string) bool {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Scheme+"://"+u.Host != o {
		return false
	}
	for _, c := range u.Host {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '-', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return true
}

// Serve answers one request: 200 with the claims as JSON, or the error
// answer of RFC 6750 §3 with its WWW-Authenticate challenge; every answer
// is no-store.
func (e *Endpoint) Serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	allowed := e.cors(h, r)
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	case http.MethodOptions:
		if e.origins != nil {
			e.preflight(w, r, allowed)
			return
		}
		fallthrough
	default:
		h.Set("Allow", e.allow)
		e.write(w, e.bearer.Fail(r, errMethod, nil))
		return
	}
	tok, f := e.bearer.Authenticate(h, r)
	if f != nil {
		e.write(w, f)
		return
	}
	claims, err := e.srv.UserInfo(r.Context(), tok)
	if err != nil {
		var scope []string
		if oerrors.From(err).Code == oerrors.ErrInsufficientScope.Code {
			scope = e.bearer.Scope
		}
		e.write(w, e.bearer.Fail(r, err, scope))
		return
	}
	b, err := json.Marshal(claims)
	if err != nil {
		e.write(w, e.bearer.Fail(r, oerrors.ServerError(err), nil))
		return
	}
	oauth2server.SetJSONHeaders(h)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// cors sets the CORS headers of an answer to an allowed origin and
// reports whether the origin is allowed. Never Allow-Credentials: the
// bearer token is not a cookie, and the endpoint reads no cookie.
func (e *Endpoint) cors(h http.Header, r *http.Request) bool {
	if e.origins == nil {
		return false
	}
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || !slices.Contains(e.origins, origin) {
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if r.Method != http.MethodOptions {
		h.Set("Access-Control-Expose-Headers", ExposeHeaders)
	}
	return true
}

// preflight answers an OPTIONS request: 204 with Allow, and for a CORS
// preflight from an allowed origin the methods and headers it may use.
func (e *Endpoint) preflight(w http.ResponseWriter, r *http.Request, allowed bool) {
	h := w.Header()
	h.Set("Allow", e.allow)
	if allowed && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", AllowMethods)
		h.Set("Access-Control-Allow-Headers", AllowHeaders)
	}
	w.WriteHeader(http.StatusNoContent)
}

// write writes a failure: its challenge, and its body as JSON, no-store.
func (e *Endpoint) write(w http.ResponseWriter, f *bearer.Failure) {
	h := w.Header()
	if f.Challenge != "" {
		h.Set("WWW-Authenticate", f.Challenge)
	}
	b, _ := json.Marshal(f.Body) // three strings: cannot fail
	oauth2server.SetJSONHeaders(h)
	w.WriteHeader(f.Status)
	_, _ = w.Write(b)
}
