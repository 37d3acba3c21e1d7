package middleware

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// RequireScope returns a middleware for routes behind [Authenticate] that
// need more scope than the group: a token without every scope in scopes is
// answered 403 insufficient_scope with the scopes in the challenge
// (RFC 6750 §3.1). The check uses the model's ScopeVerifier when it has
// one. Authenticate's ErrorHandler, if any, handles the error.
//
// A request that Authenticate did not verify (no Authenticate before it, or
// skipped) gets 401 with a bare Bearer challenge: RequireScope never lets
// an unauthenticated request through.
func RequireScope(scopes ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			info, ok := c.Get(contextKey).(*authInfo)
			if !ok || info.token == nil {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, "Bearer")
				return &echo.HTTPError{Code: http.StatusUnauthorized,
					Message: http.StatusText(http.StatusUnauthorized), Internal: ErrTokenMissing}
			}
			if err := checkScope(c, info, scopes); err != nil {
				if info.errorHandler != nil {
					if err = info.errorHandler(c, err); err != nil {
						return err
					}
				} else {
					return err
				}
			}
			return next(c)
		}
	}
}
