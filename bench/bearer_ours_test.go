package bench

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// oursAuthenticate validates the bearer token of a protected request for
// BenchmarkBearer/impl=oauth2server.
//
// INTERIM: the library's middleware package (middleware.Authenticate) is
// not on this branch yet, so this does what it will do with the root API
// that exists: take the token from the Authorization header, look it up
// with the model's GetAccessToken and check revocation, expiry and scope.
// Once middleware/ lands, replace the body with
//
//	return oauthmw.Authenticate(srv)
//
// and the row measures the real middleware.
func oursAuthenticate(srv *oauth2server.Server) echo.MiddlewareFunc {
	tokens, _ := srv.Model().(oauth2server.AccessTokenModel)
	required := []string{scope}
	now := srv.Options().Now
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			auth := r.Header.Get("Authorization")
			if len(auth) < 7 || !strings.EqualFold(auth[:7], "bearer ") || tokens == nil {
				return echo.NewHTTPError(http.StatusUnauthorized)
			}
			tok, err := tokens.GetAccessToken(r.Context(), auth[7:])
			if err != nil || tok == nil || tok.Revoked || !now().Before(tok.AccessTokenExpiresAt) {
				return echo.NewHTTPError(http.StatusUnauthorized)
			}
			if ok, err := srv.VerifyScope(r.Context(), tok, required); err != nil || !ok {
				return echo.NewHTTPError(http.StatusForbidden)
			}
			c.Set("oauth2server.token", tok)
			return next(c)
		}
	}
}
