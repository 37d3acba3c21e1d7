// Package middleware protects Echo routes with bearer access tokens issued
// by an [oauth2server.Server] (RFC 6750).
//
// Import it under an alias that does not collide with Echo's own package:
//
//	import oauthmw "github.com/echo-oauth2/oauth2server/middleware"
//
//	api := e.Group("/api", oauthmw.Authenticate(srv))
//	api.GET("/profile", profile, oauthmw.RequireScope("profile"))
//
// Handlers read the verified token with [TokenFromContext],
// [ClientIDFromContext] and [UserIDFromContext]; never with c.Get and a type
// assertion, which silently fails when the types do not match.
package middleware

import (
	stderrors "errors"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/internal/bearer"
)

// AuthenticateConfig configures [AuthenticateWithConfig].
type AuthenticateConfig struct {
	// Skipper defines a function to skip the middleware. Optional.
	// Default middleware.DefaultSkipper.
	Skipper middleware.Skipper

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

	// ErrorHandler is called with the error of a failed authentication, an
	// *echo.HTTPError whose Internal error is [ErrTokenMissing] or an
	// *errors.Error (invalid_request, invalid_token, insufficient_scope,
	// server_error) and whose Message is an *oauth2server.ErrorBody, after
	// the WWW-Authenticate header was set. What it returns is returned by
	// the middleware; return nil to let the request through
	// unauthenticated (TokenFromContext then reports false). Optional.
	// Default: the error is returned to Echo's HTTPErrorHandler, which
	// writes its Message as JSON: {"error", "error_description"}, or for
	// a request without a token {"error_description"} alone (see
	// [ErrTokenMissing]).
	ErrorHandler func(c echo.Context, err error) error
}

// DefaultAuthenticateConfig is the default configuration of
// [AuthenticateWithConfig]; Server must still be set.
var DefaultAuthenticateConfig = AuthenticateConfig{
	Skipper: middleware.DefaultSkipper,
}

// ErrTokenMissing is the Internal error of the 401 answer to a request
// without an access token. As RFC 6750 §3.1 asks, the answer carries no
// error code: the challenge is WWW-Authenticate: Bearer realm="..." alone,
// and the body {"error_description":"The request has no bearer access
// token."}, with no "error" member, so that a client tells "send a token"
// from "your token was refused" by the absence of the code in both.
var ErrTokenMissing = stderrors.New("oauthmw: no bearer access token in the request")

// tokenMissing sets the challenge of a request without a token, realm=""
// for none, and returns its error.
func tokenMissing(c echo.Context, realm string) error {
	return failure(c, bearer.MissingFailure(realm))
}

// failure sets the challenge of f, if any, and returns it as an
// *echo.HTTPError with the OAuth error body as Message (RFC 6750 §3).
func failure(c echo.Context, f *bearer.Failure) error {
	if f.Challenge != "" {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, f.Challenge)
	}
	if f.Nonce != "" {
		c.Response().Header().Set("DPoP-Nonce", f.Nonce) // RFC 9449 §9
	}
	he := &echo.HTTPError{Code: f.Status, Message: f.Body, Internal: ErrTokenMissing}
	if !f.Missing {
		he.Internal = f.Err
	}
	return he
}

// tokenKey and stateKey are where the middleware keeps the verified token
// and its own configuration in the Echo context. Echo's c.Set takes string
// keys, so they are strings no application would choose; read them only
// through the accessors. Both values are pointers, which an interface
// holds without an allocation; the configuration is made once per
// middleware, not per request.
const (
	tokenKey = "github.com/echo-oauth2/oauth2server/middleware.token"
	stateKey = "github.com/echo-oauth2/oauth2server/middleware.state"
)

// authState is what Authenticate leaves for RequireScope besides the token.
type authState struct {
	bearer.Config
	errorHandler func(c echo.Context, err error) error
}

// Authenticate returns a middleware that requires a valid bearer access
// token of srv in the Authorization header (RFC 6750 §2.1).
func Authenticate(srv *oauth2server.Server) echo.MiddlewareFunc {
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
func AuthenticateWithConfig(config AuthenticateConfig) echo.MiddlewareFunc {
	mw, err := config.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware validates config and returns the middleware.
func (config AuthenticateConfig) ToMiddleware() (echo.MiddlewareFunc, error) {
	state := &authState{Config: bearer.Config{Server: config.Server, Realm: config.Realm, Scope: config.Scope,
		AllowQuery: config.AllowQueryToken, AllowBody: config.AllowBodyToken,
		ScopeHeaders: config.AddScopeHeaders, Audience: config.Audience, Name: "oauthmw"}, errorHandler: config.ErrorHandler}
	if err := state.Check(); err != nil {
		return nil, err
	}
	skipper := config.Skipper
	if skipper == nil {
		skipper = DefaultAuthenticateConfig.Skipper
	}

	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if skipper(c) {
				return next(c)
			}
			tok, f := state.Authenticate(c.Response().Header(), c.Request())
			if f != nil {
				err := failure(c, f)
				if config.ErrorHandler != nil {
					if err = config.ErrorHandler(c, err); err != nil {
						return err
					}
					// Through unauthenticated: drop a token that an
					// earlier Authenticate (e.g. a group's) left.
					c.Set(tokenKey, (*oauth2server.Token)(nil))
					return next(c)
				}
				return err
			}
			c.Set(stateKey, state)
			c.Set(tokenKey, tok)
			return next(c)
		}
	}, nil
}

// TokenFromContext returns the access token verified by [Authenticate].
// It reports false when the middleware did not run or let the request
// through without a token (Skipper, ErrorHandler).
func TokenFromContext(c echo.Context) (*oauth2server.Token, bool) {
	tok, ok := c.Get(tokenKey).(*oauth2server.Token)
	if !ok || tok == nil {
		return nil, false
	}
	return tok, true
}

// ClientIDFromContext returns the client the verified token was issued to.
func ClientIDFromContext(c echo.Context) (string, bool) {
	tok, ok := TokenFromContext(c)
	if !ok {
		return "", false
	}
	return tok.ClientID, true
}

// UserIDFromContext returns the resource owner of the verified token. It
// reports false when there is none, as for client_credentials tokens.
func UserIDFromContext(c echo.Context) (string, bool) {
	tok, ok := TokenFromContext(c)
	if !ok || tok.UserID == "" {
		return "", false
	}
	return tok.UserID, true
}
