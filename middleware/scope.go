package middleware

import (
	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// RequireScope returns a middleware for routes behind [Authenticate] that
// need more scope than the group: a token without every scope in scopes is
// answered 403 insufficient_scope with the scopes in the challenge
// (RFC 6750 §3.1). The check uses the model's ScopeVerifier when it has
// one. Authenticate's ErrorHandler, if any, handles the error; when it
// returns nil the request goes on without the token (TokenFromContext
// reports false), as after a failed Authenticate.
//
// A request that Authenticate did not verify (no Authenticate before it, or
// skipped) gets the answer to a request without a token ([ErrTokenMissing]),
// with a bare Bearer challenge: RequireScope never lets an unauthenticated
// request through.
func RequireScope(scopes ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			state, _ := c.Get(stateKey).(*authState)
			tok, _ := c.Get(tokenKey).(*oauth2server.Token)
			if state == nil || tok == nil {
				return tokenMissing(c, "") // no Authenticate, no realm
			}
			if f := state.CheckScope(c.Response().Header(), c.Request(), tok, scopes); f != nil {
				err := failure(c, f)
				if state.errorHandler == nil {
					return err
				}
				if err = state.errorHandler(c, err); err != nil {
					return err
				}
				// Let through unauthenticated, as ErrorHandler promises:
				// the handler must not see a token that failed the scope
				// check as if it had passed.
				c.Set(tokenKey, (*oauth2server.Token)(nil))
			}
			return next(c)
		}
	}
}
