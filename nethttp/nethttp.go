// Package nethttp mounts the endpoints of an [oauth2server.Server] on plain
// net/http (http.ServeMux, chi, gorilla/mux, ...) and protects routes with
// its bearer access tokens (RFC 6750). It mirrors the Echo packages one to
// one: the handlers of package handlers and the Authenticate and
// RequireScope middleware of package middleware, with the same answers,
// status codes and headers.
//
// Each endpoint handler is thin: it hands the request to the Server and
// writes the answer through one writer, so every answer of the token,
// revocation, introspection and device authorization endpoints, success or
// error, 405, 413 and 415 included, has the same headers (Cache-Control:
// no-store, Pragma: no-cache, Content-Type: application/json; RFC 6749
// §5.1) and every error the same JSON shape (RFC 6749 §5.2), and no
// internal error text reaches a client.
//
//	mux := http.NewServeMux()
//	mux.Handle("/oauth/token", nethttp.Token(srv))
//	mux.Handle("GET /api/profile", nethttp.Authenticate(srv)(profile))
//
// The configurable pieces follow the pattern of the Echo packages: X(srv)
// where the defaults suffice, XWithConfig(cfg) which panics on an invalid
// configuration, and (XConfig).ToHandler() or ToMiddleware() which returns
// the error.
//
// The authorization endpoint ([AuthorizeWithConfig]) answers a browser
// instead: it redirects to the client or renders a page, its consent form
// protected by a single-use CSRF token. Its logic is the one package
// handlers runs, so that the two cannot drift apart; only its hooks differ,
// taking the *http.Request where Echo's take an echo.Context, and a hook's
// error, which Echo would hand to its HTTPErrorHandler, is logged and
// answered with the built-in server_error page.
//
// An OpenID Provider ([oauth2server.Options.OpenID]) adds the UserInfo
// endpoint ([UserInfo]), the end session endpoint
// ([EndSessionWithConfig]) and the OpenID Provider configuration
// ([OpenIDConfigurationWithConfig]), again with package handlers' answers.
package nethttp

import (
	"encoding/json"
	"net/http"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// write is the one writer of the token, revocation, introspection and
// device authorization endpoints: every answer gets the headers of
// [oauth2server.SetJSONHeaders], an answer without content (the 200 of a
// revocation) all but Content-Type.
func write(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	oauth2server.SetJSONHeaders(h)
	if body == nil {
		delete(h, "Content-Type") // no content, no type (RFC 9110 §8.3)
		w.WriteHeader(status)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeJSON writes v as a 200 answer, or a server_error if it does not
// marshal.
func writeJSON(w http.ResponseWriter, r *http.Request, srv *oauth2server.Server, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, r, srv, oerrors.ServerError(err))
		return
	}
	write(w, http.StatusOK, b)
}

// writeError writes err as an OAuth error answer: the Server chooses its
// status, body and headers ([oauth2server.Server.PrepareError]).
func writeError(w http.ResponseWriter, r *http.Request, srv *oauth2server.Server, err error) {
	status, body := srv.PrepareError(w.Header(), r, err)
	b, _ := json.Marshal(body) // three strings: cannot fail
	write(w, status, b)
}

// writeDocument writes v as a public JSON document (JWK Set, metadata),
// with the Content-Type and Cache-Control already set by the caller.
func writeDocument(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(b, '\n'))
}
