package oauth2server

import (
	"encoding/json"
	"net/http"
	"strconv"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// ErrorBody is the JSON body of an error response (RFC 6749 §5.2).
type ErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
	ErrorURI         string `json:"error_uri,omitempty"`
}

// PrepareError turns err into the status and body of an error response of
// the token, revocation, introspection or device authorization endpoint,
// and sets the response headers on h: Cache-Control: no-store and Pragma:
// no-cache always, and WWW-Authenticate: Basic with every invalid_client
// (401, RFC 6749 §5.2, RFC 7662 §2.3). A cause that is not an
// *errors.Error becomes server_error; its text is logged, never sent.
func (s *Server) PrepareError(h http.Header, r *http.Request, err error) (int, *ErrorBody) {
	e := oerrors.From(err)
	if oerrors.IsServerError(e) {
		s.opts.Logger.ErrorContext(r.Context(), "oauth2server: request failed",
			"method", r.Method, "path", r.URL.Path, "error", e.Unwrap())
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
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
	if status == http.StatusMethodNotAllowed {
		// RFC 9110 §15.5.6: a 405 lists the allowed methods.
		h.Set("Allow", http.MethodPost)
	}
	return status, &ErrorBody{Error: e.Code, ErrorDescription: e.Description, ErrorURI: e.URI}
}

// WriteError writes err as a JSON error response with net/http (see
// [Server.PrepareError]). Echo users mount the handlers package instead.
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.PrepareError(w.Header(), r, err)
	WriteJSON(w, status, body)
}

// WriteJSON writes v as JSON with Cache-Control: no-store and Pragma:
// no-cache, as every response carrying tokens or credentials needs
// (RFC 6749 §5.1).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeToken is an http.HandlerFunc for the token endpoint, for net/http
// users; Echo users mount handlers.Token.
func (s *Server) ServeToken(w http.ResponseWriter, r *http.Request) {
	resp, err := s.Token(r)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, resp)
}
