// Package handlers mounts the endpoints of an [oauth2server.Server] on Echo.
//
// Each handler is thin: it hands the request to the Server and writes the
// answer through one writer, so every protocol error of the token,
// revocation, introspection and device authorization endpoints has the same
// JSON shape and headers (RFC 6749 §5.2) and no internal error text reaches
// a client. The authorization endpoint ([AuthorizeWithConfig]) answers a browser
// instead: it redirects to the client or renders a page.
//
// [Register] mounts every endpoint, and the RFC 8414 metadata, in one call.
package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// writeError writes err as an OAuth error response. It never calls
// c.Error, so Echo's HTTPErrorHandler cannot reshape the body.
func writeError(c echo.Context, srv *oauth2server.Server, err error) error {
	status, body := srv.PrepareError(c.Response().Header(), c.Request(), err)
	return c.JSON(status, body)
}

// writeNoStore writes v as JSON with Cache-Control: no-store and Pragma:
// no-cache (RFC 6749 §5.1).
func writeNoStore(c echo.Context, v any) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	return c.JSON(http.StatusOK, v)
}
