package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/internal/userinfo"
)

// UserInfoConfig configures the UserInfo endpoint handler (see
// [UserInfoWithConfig]).
type UserInfoConfig struct {
	// Server verifies the access tokens and releases the claims. It must
	// be an OpenID Provider ([oauth2server.Options.OpenID]). Required.
	Server *oauth2server.Server

	// AllowOrigins lists the origins (scheme://host[:port], exactly as
	// browsers send them in the Origin header) whose scripts may call the
	// endpoint with CORS: a browser-based relying party. Optional. Default
	// none: no CORS headers, and OPTIONS is 405 like any other method.
	// With origins, a request from one of them gets
	// Access-Control-Allow-Origin with that origin and
	// Access-Control-Expose-Headers: WWW-Authenticate, and a preflight
	// (OPTIONS) gets 204 with Access-Control-Allow-Methods: GET, POST and
	// Access-Control-Allow-Headers: Authorization, Content-Type. Never
	// Access-Control-Allow-Credentials: the access token is a header, not
	// a cookie. A wildcard is refused.
	AllowOrigins []string
}

// UserInfo returns the handler of the OpenID Connect UserInfo endpoint
// (OIDC Core §5.3) without CORS. Mount it for every method, so that
// another method gets the endpoint's own 405 (Register does):
//
//	e.Any("/userinfo", handlers.UserInfo(srv))
//
// GET and POST both work. The access token comes in the
// Authorization header (RFC 6750 §2.1) or, with POST, in the access_token
// parameter of a form body (§2.2), never both and never in the query. It
// must carry the openid scope. The answer is 200 application/json with
// sub and the claims the token's scope releases
// ([oauth2server.Server.UserInfo]), Cache-Control: no-store. A request
// without a token gets 401 with a bare Bearer challenge; a token sent two
// ways 400 invalid_request; an unknown, expired or revoked token, or one
// whose user or client is gone, 401 invalid_token; a token without openid
// 403 insufficient_scope; each with its WWW-Authenticate challenge and a
// JSON body (RFC 6750 §3).
//
// It panics when srv is nil, is not an OpenID Provider or cannot verify
// its access tokens.
func UserInfo(srv *oauth2server.Server) echo.HandlerFunc {
	return UserInfoWithConfig(UserInfoConfig{Server: srv})
}

// UserInfoWithConfig returns the [UserInfo] handler with cfg. It panics
// when cfg is invalid; [UserInfoConfig.ToHandler] returns the error
// instead.
func UserInfoWithConfig(cfg UserInfoConfig) echo.HandlerFunc {
	h, err := cfg.ToHandler()
	if err != nil {
		panic(err)
	}
	return h
}

// ToHandler returns the UserInfo handler (see [UserInfo]), or an error
// when the configuration is invalid: no Server, a Server that is not an
// OpenID Provider or cannot verify its access tokens, or an entry of
// AllowOrigins that is not an origin.
func (cfg UserInfoConfig) ToHandler() (echo.HandlerFunc, error) {
	ep, err := userinfo.New(userinfo.Config{Name: "handlers", Server: cfg.Server, AllowOrigins: cfg.AllowOrigins})
	if err != nil {
		return nil, err
	}
	return func(c echo.Context) error {
		// The endpoint writes every answer itself, errors included, so
		// that Echo's HTTPErrorHandler never reshapes one.
		ep.Serve(c.Response(), c.Request())
		return nil
	}, nil
}
