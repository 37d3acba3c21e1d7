package nethttp

import (
	"context"
	"encoding/json"
	stderrors "errors"
	"net/http"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/internal/bearer"
)

// AuthenticateConfig configures [AuthenticateWithConfig].
type AuthenticateConfig struct {
	// Skipper defines a function to skip the middleware: the request goes
	// on without a token. Optional. Default: never skip.
	Skipper func(r *http.Request) bool

	// Server verifies the tokens. Required.
	Server *oauth2server.Server

	// Scope lists scopes every request must have; routes needing more add
	// [RequireScope]. Optional. Default none.
	Scope []string

	// AllowQueryToken accepts the token in the access_token query
	// parameter (RFC 6750 §2.3). Optional. Default false: URLs end up in
	// logs and Referer headers, and RFC 9700 §4.3.2 says clients must not
	// send it there. When false the parameter is ignored. When true the
	// query is parsed as the token endpoint parses its body: a repeated
	// access_token, a bad escape, a ';' separator or invalid UTF-8
	// anywhere in the query is invalid_request; other parameters may
	// repeat.
	AllowQueryToken bool

	// AllowBodyToken accepts the token in the access_token parameter of an
	// application/x-www-form-urlencoded body of a request that is not GET
	// or HEAD (RFC 6750 §2.2). Optional. Default false. The body is read
	// up to the Server's MaxBodyBytes (a longer one is 413) and restored
	// for the handler, and parsed with the rules of AllowQueryToken. When
	// false the parameter is ignored.
	AllowBodyToken bool

	// AddScopeHeaders sets node oauth2-server's headers: X-Accepted-OAuth-Scopes
	// (the scopes the route requires) and X-OAuth-Scopes (the token's
	// scopes). Optional. Default false.
	AddScopeHeaders bool

	// Realm is the realm of the WWW-Authenticate challenge. Optional.
	// Default the Server's realm ([oauth2server.Options.Realm]).
	Realm string

	// Audience is the resource indicator (RFC 8707) of the protected
	// routes: a token is accepted only if it is for this resource (its aud,
	// or the resources it was requested for); another is invalid_token.
	// Optional. Default the Server's default audience
	// ([oauth2server.Options.Audience]), which the tokens requested without
	// a resource parameter have.
	Audience string

	// ErrorHandler is called with the error of a failed authentication,
	// whose Err is [ErrTokenMissing] or an *errors.Error (invalid_request,
	// invalid_token, insufficient_scope, server_error), after the
	// WWW-Authenticate header was set. It writes the answer and returns
	// false, or returns true to let the request through unauthenticated
	// (TokenFromContext then reports false). Optional. Default: the answer
	// of [Error.WriteTo], {"error", "error_description"} as JSON, or for a
	// request without a token {"error_description"} alone (see
	// [ErrTokenMissing]).
	ErrorHandler ErrorHandlerFunc
}

// ErrorHandlerFunc handles a failed authentication (see
// [AuthenticateConfig.ErrorHandler]). It either writes the answer and
// returns false, or writes nothing and returns true to let the request go
// on to the handler without a token, as Echo's ErrorHandler returning nil
// does.
type ErrorHandlerFunc func(w http.ResponseWriter, r *http.Request, err *Error) (next bool)

// DefaultAuthenticateConfig is the default configuration of
// [AuthenticateWithConfig]; Server must still be set.
var DefaultAuthenticateConfig = AuthenticateConfig{}

// ErrTokenMissing is the Err of the 401 answer to a request without an
// access token. As RFC 6750 §3.1 asks, the answer carries no error code:
// the challenge is WWW-Authenticate: Bearer realm="..." alone, and the body
// {"error_description":"The request has no bearer access token."}, with no
// "error" member, so that a client tells "send a token" from "your token
// was refused" by the absence of the code in both.
var ErrTokenMissing = stderrors.New("nethttp: no bearer access token in the request")

// Error is a failed authentication: the status and JSON body of its answer
// and its cause, [ErrTokenMissing] or an *errors.Error. errors.Is and
// errors.As see the cause.
type Error struct {
	// Status is the HTTP status of the answer.
	Status int
	// Body is the JSON body of the answer.
	Body *oauth2server.ErrorBody
	// Err is the cause.
	Err error
}

// Error returns the cause's text.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// WriteTo writes the default answer to e: its status with its body as
// JSON (no body for HEAD), as Echo's default HTTPErrorHandler writes the
// Echo middleware's errors. The WWW-Authenticate challenge is already set.
func (e *Error) WriteTo(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		w.WriteHeader(e.Status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e.Body)
}

// contextKey is the key of the middleware's value in the request context.
type contextKey struct{}

// authValue is what Authenticate leaves in the context: the verified token
// (nil after an ErrorHandler let the request through) and, for
// RequireScope, the middleware's configuration.
type authValue struct {
	tok   *oauth2server.Token
	state *authState
}

// authState is a checked configuration, made once per middleware.
type authState struct {
	bearer.Config
	errorHandler ErrorHandlerFunc
}

// handle answers e with the ErrorHandler, or the default answer, and
// reports whether the request goes on unauthenticated.
func (s *authState) handle(w http.ResponseWriter, r *http.Request, e *Error) (next bool) {
	if s.errorHandler == nil {
		e.WriteTo(w, r)
		return false
	}
	return s.errorHandler(w, r, e)
}

// failure sets the challenge of f, if any, and returns it as an *Error.
func failure(w http.ResponseWriter, f *bearer.Failure) *Error {
	if f.Challenge != "" {
		w.Header().Set("WWW-Authenticate", f.Challenge)
	}
	if f.Nonce != "" {
		w.Header().Set("DPoP-Nonce", f.Nonce) // RFC 9449 §9
	}
	e := &Error{Status: f.Status, Body: f.Body, Err: ErrTokenMissing}
	if !f.Missing {
		e.Err = f.Err
	}
	return e
}

// Authenticate returns a middleware that requires a valid bearer access
// token of srv in the Authorization header (RFC 6750 §2.1).
//
//	mux.Handle("GET /api/profile", nethttp.Authenticate(srv)(profile))
func Authenticate(srv *oauth2server.Server) func(http.Handler) http.Handler {
	c := DefaultAuthenticateConfig
	c.Server = srv
	return AuthenticateWithConfig(c)
}

// AuthenticateWithConfig returns an Authenticate middleware with config. It
// panics when config is invalid; [AuthenticateConfig.ToMiddleware] returns
// the error instead.
//
// A request without a token gets 401 with WWW-Authenticate: Bearer
// realm="..." and no error code, in the challenge or the body (see
// [ErrTokenMissing]); a token sent in more than one way, or a
// malformed one, 400 invalid_request, as does a request that did not arrive
// over TLS when the Server has Options.RequireTLS; an unknown, expired,
// revoked or invalid token 401 invalid_token; a token without the
// configured Scope 403 insufficient_scope with the scope in the challenge
// (RFC 6750 §3).
//
// With [oauth2server.Options.DPoP], a DPoP-bound token (RFC 9449) is
// accepted only with "Authorization: DPoP <token>" and a DPoP header
// proving its key for this request and this token (ath); sent as Bearer it
// is invalid_token, and a bad proof 401 invalid_dpop_proof. Such failures
// carry a DPoP challenge with the accepted algorithms, use_dpop_nonce a
// DPoP-Nonce header, and a request without a token both challenges. Bearer
// tokens keep working on the same routes. With
// [oauth2server.Options.OnEvent], a refused proof, and a bound token sent
// without one, is an audit event ([oauth2server.Server.RecordDPoPRejection]).
func AuthenticateWithConfig(config AuthenticateConfig) func(http.Handler) http.Handler {
	mw, err := config.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware validates config and returns the middleware.
func (config AuthenticateConfig) ToMiddleware() (func(http.Handler) http.Handler, error) {
	state := &authState{Config: bearer.Config{Server: config.Server, Realm: config.Realm, Scope: config.Scope,
		AllowQuery: config.AllowQueryToken, AllowBody: config.AllowBodyToken,
		ScopeHeaders: config.AddScopeHeaders, Audience: config.Audience, Name: "nethttp"}, errorHandler: config.ErrorHandler}
	if err := state.Check(); err != nil {
		return nil, err
	}
	skipper := config.Skipper

	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if skipper != nil && skipper(r) {
				next.ServeHTTP(w, r)
				return
			}
			tok, f := state.Authenticate(w.Header(), r)
			if f != nil {
				if !state.handle(w, r, failure(w, f)) {
					return
				}
				// Through unauthenticated: drop a token that an earlier
				// Authenticate (e.g. an outer router's) left.
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), contextKey{}, &authValue{})))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), contextKey{}, &authValue{tok: tok, state: state})))
		})
	}, nil
}

// RequireScope returns a middleware for routes behind [Authenticate] that
// need more scope: a token without every scope in scopes is answered 403
// insufficient_scope with the scopes in the challenge (RFC 6750 §3.1). The
// check uses the model's ScopeVerifier when it has one. Authenticate's
// ErrorHandler, if any, handles the error; when it lets the request
// through, the request goes on without the token (TokenFromContext reports
// false), as after a failed Authenticate.
//
// A request that Authenticate did not verify (no Authenticate before it, or
// skipped) gets the answer to a request without a token ([ErrTokenMissing]),
// with a bare Bearer challenge: RequireScope never lets an unauthenticated
// request through.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, _ := r.Context().Value(contextKey{}).(*authValue)
			if v == nil || v.tok == nil || v.state == nil {
				failure(w, bearer.MissingFailure("")).WriteTo(w, r) // no Authenticate, no realm
				return
			}
			state := v.state
			if f := state.CheckScope(w.Header(), r, v.tok, scopes); f != nil {
				if !state.handle(w, r, failure(w, f)) {
					return
				}
				// Let through unauthenticated, as ErrorHandler promises:
				// the handler must not see a token that failed the scope
				// check as if it had passed.
				r = r.WithContext(context.WithValue(r.Context(), contextKey{}, &authValue{}))
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TokenFromContext returns the access token verified by [Authenticate]
// from a request's context (r.Context()). It reports false when the
// middleware did not run or let the request through without a token
// (Skipper, ErrorHandler).
func TokenFromContext(ctx context.Context) (*oauth2server.Token, bool) {
	v, _ := ctx.Value(contextKey{}).(*authValue)
	if v == nil || v.tok == nil {
		return nil, false
	}
	return v.tok, true
}

// ClientIDFromContext returns the client the verified token was issued to.
func ClientIDFromContext(ctx context.Context) (string, bool) {
	tok, ok := TokenFromContext(ctx)
	if !ok {
		return "", false
	}
	return tok.ClientID, true
}

// UserIDFromContext returns the resource owner of the verified token. It
// reports false when there is none, as for client_credentials tokens.
func UserIDFromContext(ctx context.Context) (string, bool) {
	tok, ok := TokenFromContext(ctx)
	if !ok || tok.UserID == "" {
		return "", false
	}
	return tok.UserID, true
}
