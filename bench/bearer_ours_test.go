package bench

import (
	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oauthmw "github.com/echo-oauth2/oauth2server/middleware"
)

// oursAuthenticate is the library's bearer middleware as an application
// mounts it, for BenchmarkBearer/impl=oauth2server and the JWT verify rows.
//
// Apples to apples: the middleware requires the scope "read", as fosite's
// IntrospectToken(..., scope) does in its row, so both check the token's
// existence, expiry, revocation and scope; go-oauth2's
// ValidationBearerToken checks existence and expiry only (it has no scope
// check to ask for). oauthmw.Authenticate(srv) is the same middleware with
// no required scope; the scope check costs a few nanoseconds and no
// allocation.
func oursAuthenticate(srv *oauth2server.Server) echo.MiddlewareFunc {
	return oauthmw.AuthenticateWithConfig(oauthmw.AuthenticateConfig{
		Server: srv,
		Scope:  []string{scope},
	})
}
