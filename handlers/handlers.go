// Package handlers mounts the endpoints of an [oauth2server.Server] on Echo.
//
// Each handler is thin: it hands the request to the Server and writes the
// answer through one writer, so every answer of the token, revocation,
// introspection and device authorization endpoints, success or error, 405,
// 413 and 415 included, has the same headers (Cache-Control: no-store,
// Pragma: no-cache, Content-Type: application/json; RFC 6749 §5.1) and every
// error the same JSON shape (RFC 6749 §5.2), and no internal error text
// reaches a client. The authorization endpoint ([AuthorizeWithConfig])
// answers a browser instead: it redirects to the client or renders a page.
//
// The handlers follow Echo's configuration pattern: X(srv) where the
// defaults suffice, XWithConfig(cfg) which panics on an invalid
// configuration, and (XConfig).ToHandler() which returns the error.
// [Register] mounts every endpoint, and the RFC 8414 metadata, in one call;
// for an OpenID Provider ([oauth2server.Options.OpenID]) also the UserInfo
// endpoint ([UserInfo]), the end session endpoint ([EndSessionWithConfig])
// and the OpenID Provider configuration ([OpenIDConfigurationWithConfig]).
package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// write is the one writer of the token, revocation, introspection and
// device authorization endpoints: every answer gets the headers of
// [oauth2server.SetJSONHeaders], an answer without content (the
// 200 of a revocation) all but Content-Type. It never calls c.Error, so
// Echo's HTTPErrorHandler cannot reshape an answer.
func write(c echo.Context, status int, body []byte) error {
	h := c.Response().Header()
	oauth2server.SetJSONHeaders(h)
	if body == nil {
		delete(h, echo.HeaderContentType) // no content, no type (RFC 9110 §8.3)
		return c.NoContent(status)
	}
	return c.JSONBlob(status, body)
}

// writeJSON writes v as a 200 answer, or a server_error if it does not
// marshal.
func writeJSON(c echo.Context, srv *oauth2server.Server, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return writeError(c, srv, oerrors.ServerError(err))
	}
	return write(c, http.StatusOK, b)
}

// writeError writes err as an OAuth error answer: the Server chooses its
// status, body and headers ([oauth2server.Server.PrepareError]).
func writeError(c echo.Context, srv *oauth2server.Server, err error) error {
	status, body := srv.PrepareError(c.Response().Header(), c.Request(), err)
	b, _ := json.Marshal(body) // three strings: cannot fail
	return write(c, status, b)
}
