package oauth2server

import (
	"log/slog"
	"net/http"
	"strconv"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// ErrorBody is the JSON body of an error response (RFC 6749 §5.2), as
// [Server.PrepareError] returns it. Packages handlers and nethttp, and an
// adapter for another framework, send it as encoding/json marshals it.
type ErrorBody struct {
	// Error is the error code. The Server's endpoints always set it; the
	// middleware package leaves it empty, and so out of the JSON, in its
	// answer to a request without an access token, whose challenge has no
	// error code either (RFC 6750 §3.1).
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
	ErrorURI         string `json:"error_uri,omitempty"`
}

// PrepareError turns err into the status and body of an error response of
// the token, revocation, introspection or device authorization endpoint,
// and sets the response headers on h: those of [SetJSONHeaders] always,
// WWW-Authenticate: Basic with every invalid_client (401, RFC 6749 §5.2,
// RFC 7662 §2.3), Retry-After when throttled, Allow with a 405 and
// DPoP-Nonce with use_dpop_nonce (RFC 9449 §8). A cause
// that is not an *errors.Error becomes server_error; its text is logged,
// never sent.
//
// It writes nothing itself. The one writer of package handlers (Echo) and
// that of package nethttp (net/http) call it and then write the status and
// the body as JSON, so that an error has the same status, headers and body
// whichever package serves it; an adapter for another framework (gin, ...)
// does the same with its own response writer.
func (s *Server) PrepareError(h http.Header, r *http.Request, err error) (int, *ErrorBody) {
	e := oerrors.From(err)
	if oerrors.IsServerError(e) {
		s.logFault(r, "oauth2server: request failed", e)
	}
	SetJSONHeaders(h)
	status := e.Status
	if e.Code == oerrors.ErrInvalidClient.Code && status == http.StatusUnauthorized {
		// invalid_client is always 401 with a Basic challenge: RFC 6749
		// §5.2 requires it when the client used the Authorization header
		// and allows it otherwise, RFC 7662 §2.3 requires 401 at the
		// introspection endpoint, and a 401 must carry a challenge (RFC
		// 9110 §15.5.2). One answer for every endpoint and every method
		// also tells nothing about how the client tried.
		h.Set("WWW-Authenticate", `Basic realm="`+s.opts.Realm+`"`)
	}
	if secs := e.RetryAfterSeconds(); secs > 0 {
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	if e.Code == oerrors.ErrUseDPoPNonce.Code {
		// RFC 9449 §8: the nonce to use comes with the error.
		h.Set("DPoP-Nonce", s.DPoPNonce())
	}
	if status == http.StatusMethodNotAllowed {
		// RFC 9110 §15.5.6: a 405 lists the allowed methods.
		h.Set("Allow", http.MethodPost)
	}
	return status, &ErrorBody{Error: e.Code, ErrorDescription: e.Description, ErrorURI: e.URI}
}

// SetJSONHeaders sets the headers of every answer of the token,
// revocation, introspection and device authorization endpoints, success
// and error alike: Content-Type: application/json, Cache-Control: no-store
// and Pragma: no-cache (RFC 6749 §5.1, R-63; RFC 7009 §2.2 and RFC 8628
// §3.2 answers carry credentials or tokens too). [Server.PrepareError] sets
// them on every error answer; packages handlers and nethttp call it before
// they write a successful answer, and so must an adapter for another
// framework, dropping Content-Type when the answer has no content (the 200
// of a revocation).
func SetJSONHeaders(h http.Header) {
	// One allocation for the three values instead of one per Header.Set;
	// the keys are canonical. Each value slice is capped at length 1, so a
	// later Add to one header appends to a new array and never overwrites
	// its neighbour.
	v := &[3]string{"application/json", "no-store", "no-cache"}
	h["Content-Type"] = v[0:1:1]
	h["Cache-Control"] = v[1:2:2]
	h["Pragma"] = v[2:3:3]
}

// logFault logs the cause of a server_error answer. A request whose client
// went away (its context was cancelled) is no fault of the server: any
// client can cause one by hanging up, so it is logged at debug level and
// cannot flood the error log.
func (s *Server) logFault(r *http.Request, msg string, e *oerrors.Error) {
	level := slog.LevelError
	if r.Context().Err() != nil {
		level, msg = slog.LevelDebug, msg+": the client went away"
	}
	s.opts.Logger.Log(r.Context(), level, msg, "method", r.Method, "path", r.URL.Path, "error", e.Unwrap())
}
