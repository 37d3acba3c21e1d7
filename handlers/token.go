package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// Token returns the handler of the token endpoint (RFC 6749 §3.2). Mount it
// for POST: e.POST("/oauth/token", handlers.Token(srv)).
func Token(srv *oauth2server.Server) echo.HandlerFunc {
	return func(c echo.Context) error {
		resp, err := srv.Token(c.Request())
		if err != nil {
			return writeError(c, srv, err)
		}
		// MarshalJSON writes the response without reflection; going through
		// c.JSON would add an encoder and a second pass over its output.
		b, err := resp.MarshalJSON()
		if err != nil {
			return writeError(c, srv, oerrors.ServerError(err))
		}
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		return c.JSONBlob(http.StatusOK, b)
	}
}
