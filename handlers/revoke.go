package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// Revoke returns the handler of the revocation endpoint (RFC 7009). Mount
// it for every method, e.Any("/oauth/revoke", handlers.Revoke(srv)), as
// [Token]. Success is 200 with an empty body (and so no Content-Type),
// also for an unknown token (RFC 7009 §2.2).
func Revoke(srv *oauth2server.Server) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := srv.Revoke(c.Request()); err != nil {
			return writeError(c, srv, err)
		}
		return write(c, http.StatusOK, nil)
	}
}
