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
	"bytes"
	stderrors "errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/form"
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

// descTokenMissing is the description of the answer without a token.
const descTokenMissing = "The request has no bearer access token."

// tokenMissing sets the challenge of a request without a token, realm=""
// for none, and returns its error.
func tokenMissing(c echo.Context, realm string) error {
	ch := "Bearer"
	if realm != "" {
		ch += ` realm="` + realm + `"`
	}
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, ch)
	return &echo.HTTPError{Code: http.StatusUnauthorized,
		Message: &oauth2server.ErrorBody{ErrorDescription: descTokenMissing}, Internal: ErrTokenMissing}
}

var (
	errMultipleMethods = oerrors.ErrInvalidRequest.WithDescription("The request uses more than one method to send the access token.")
	errMalformedHeader = oerrors.ErrInvalidRequest.WithDescription("The Authorization header is not a valid Bearer credential.")
	errScope           = oerrors.ErrInsufficientScope.WithDescription("The access token does not have the scope this resource requires.")
)

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
	srv          *oauth2server.Server
	realm        string
	scopeHeaders bool
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
func AuthenticateWithConfig(config AuthenticateConfig) echo.MiddlewareFunc {
	mw, err := config.ToMiddleware()
	if err != nil {
		panic(err)
	}
	return mw
}

// ToMiddleware validates config and returns the middleware.
func (config AuthenticateConfig) ToMiddleware() (echo.MiddlewareFunc, error) {
	if config.Server == nil {
		return nil, stderrors.New("oauthmw: AuthenticateConfig.Server is required")
	}
	if !config.Server.CanVerifyAccessTokens() {
		// Every request would fail with server_error: say so at startup.
		return nil, stderrors.New("oauthmw: the Server cannot verify access tokens: its model lacks " +
			"AccessTokenModel (GetAccessToken) and it does not issue JWT access tokens (Options.JWT)")
	}
	if config.Skipper == nil {
		config.Skipper = DefaultAuthenticateConfig.Skipper
	}
	if config.Realm == "" {
		config.Realm = config.Server.Realm()
	}
	if strings.ContainsAny(config.Realm, "\"\\\r\n") {
		return nil, stderrors.New("oauthmw: Realm must not contain quotes, backslashes or line breaks")
	}
	scope, err := oauth2server.ParseScope(oauth2server.FormatScope(config.Scope))
	if err != nil {
		return nil, stderrors.New("oauthmw: AuthenticateConfig.Scope holds an invalid scope token")
	}
	config.Scope = scope
	maxBody := config.Server.Options().MaxBodyBytes
	state := &authState{srv: config.Server, realm: config.Realm,
		scopeHeaders: config.AddScopeHeaders, errorHandler: config.ErrorHandler}

	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if config.Skipper(c) {
				return next(c)
			}
			tok, err := config.authenticate(c, state, maxBody)
			if err != nil {
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

// authenticate extracts and verifies the token and checks config.Scope.
func (config *AuthenticateConfig) authenticate(c echo.Context, state *authState, maxBody int64) (*oauth2server.Token, error) {
	// Bearer tokens travel only over TLS (RFC 6750 §5.3) when the Server
	// requires it.
	if err := config.Server.CheckTLS(c.Request()); err != nil {
		return nil, bearerError(c, state, err, nil)
	}
	raw, err := config.extract(c.Request(), maxBody)
	if err != nil {
		return nil, bearerError(c, state, err, nil)
	}
	if raw == "" {
		return nil, tokenMissing(c, state.realm)
	}
	tok, err := config.Server.ValidateAccessToken(c.Request().Context(), raw)
	if err != nil {
		return nil, bearerError(c, state, err, nil)
	}
	if err := checkScope(c, state, tok, config.Scope); err != nil {
		return nil, err
	}
	return tok, nil
}

// checkScope verifies that tok covers required (RFC 6750 §3.1).
func checkScope(c echo.Context, state *authState, tok *oauth2server.Token, required []string) error {
	if state.scopeHeaders {
		h := c.Response().Header()
		h.Set("X-OAuth-Scopes", strings.Join(tok.Scope, ", "))
		if len(required) > 0 {
			h.Set("X-Accepted-OAuth-Scopes", strings.Join(required, ", "))
		}
	}
	if len(required) == 0 {
		return nil
	}
	ok, err := state.srv.VerifyScope(c.Request().Context(), tok, required)
	if err != nil {
		return bearerError(c, state, err, nil)
	}
	if !ok {
		return bearerError(c, state, errScope, required)
	}
	return nil
}

// extract returns the access token from exactly one allowed method: the
// Authorization header, the query (AllowQueryToken) or the form body
// (AllowBodyToken). Disallowed methods are ignored. It returns "" and no
// error when there is no token. The query and the body are read by the
// parser of the token endpoint (internal/form), with its limit and its
// rules for access_token: a repeat, a bad escape or invalid UTF-8 is
// invalid_request, an empty value is no value.
func (config *AuthenticateConfig) extract(r *http.Request, maxBody int64) (string, error) {
	var token string
	methods := 0

	auth, err := form.Authorization(r.Header)
	if err != nil {
		return "", err // several Authorization headers (RFC 6750 §2)
	}
	// Another scheme is not ours to judge: the request carries no bearer
	// token.
	if scheme, rest, _ := strings.Cut(auth, " "); auth != "" && strings.EqualFold(scheme, "Bearer") {
		t := strings.TrimLeft(rest, " ")
		if !validBearer(t) {
			return "", errMalformedHeader
		}
		token = t
		methods++
	}

	if config.AllowQueryToken {
		t, err := form.Value(r.URL.RawQuery, "access_token")
		if err != nil {
			return "", err
		}
		if t != "" {
			token = t
			methods++
		}
	}

	if config.AllowBodyToken && r.Method != http.MethodGet && r.Method != http.MethodHead && r.Body != nil &&
		form.IsForm(r.Header.Get(echo.HeaderContentType)) {
		t, err := bodyToken(r, maxBody)
		if err != nil {
			return "", err
		}
		if t != "" {
			token = t
			methods++
		}
	}

	if methods > 1 {
		return "", errMultipleMethods
	}
	return token, nil
}

// bodyToken reads access_token from a form body, within the Server's
// MaxBodyBytes (413 beyond), and puts the body back for the handler.
func bodyToken(r *http.Request, maxBody int64) (string, error) {
	body, err := form.ReadBody(nil, r, maxBody)
	if err != nil {
		return "", err
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	return form.Value(string(body), "access_token")
}

// validBearer reports whether t is a b64token (RFC 6750 §2.1):
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func validBearer(t string) bool {
	end := len(strings.TrimRight(t, "="))
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		c := t[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// bearerError sets the WWW-Authenticate challenge for err and returns it
// as an *echo.HTTPError with the OAuth error body as Message (RFC 6750 §3).
// Server faults are logged and answered without a challenge.
func bearerError(c echo.Context, state *authState, err error, scope []string) error {
	e := oerrors.From(err)
	if oerrors.IsServerError(e) {
		r := c.Request()
		state.srv.Logger().ErrorContext(r.Context(), "oauthmw: authentication failed",
			"method", r.Method, "path", r.URL.Path, "error", e.Unwrap())
	} else {
		ch := `Bearer realm="` + state.realm + `", error="` + e.Code + `"`
		if e.Description != "" {
			ch += `, error_description="` + quoteSafe(e.Description) + `"`
		}
		if len(scope) > 0 {
			ch += `, scope="` + quoteSafe(oauth2server.FormatScope(scope)) + `"`
		}
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, ch)
	}
	return &echo.HTTPError{Code: e.Status,
		Message:  &oauth2server.ErrorBody{Error: e.Code, ErrorDescription: e.Description, ErrorURI: e.URI},
		Internal: e}
}

// quoteSafe drops the characters a quoted-string would need escaped. Our
// descriptions and scope tokens never contain them; this is a guard.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
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
