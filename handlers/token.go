package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// Token returns the handler of the token endpoint (RFC 6749 §3.2). Mount it
// for POST: e.POST("/oauth/token", handlers.Token(srv)).
func Token(srv *oauth2server.Server) echo.HandlerFunc {
	return func(c echo.Context) error {
		resp, err := srv.Token(c.Request())
		if err != nil {
			return writeError(c, srv, err)
		}
		return writeNoStore(c, resp)
	}
}
