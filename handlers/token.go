package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// Token returns the handler of the token endpoint (RFC 6749 §3.2). Mount it
// for every method, e.Any("/oauth/token", handlers.Token(srv)): the Server
// answers a method other than POST with a JSON 405 and no-store.
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
		setTokenHeaders(c.Response().Header())
		return c.JSONBlob(http.StatusOK, b)
	}
}

// setTokenHeaders sets Content-Type: application/json, Cache-Control:
// no-store and Pragma: no-cache (RFC 6749 §5.1) with one allocation for
// the three values instead of one per Header.Set. The keys are already
// canonical. Each value slice is capped at length 1, so a later Add to
// one header appends to a new array and never overwrites its neighbour.
func setTokenHeaders(h http.Header) {
	v := &[3]string{echo.MIMEApplicationJSON, "no-store", "no-cache"}
	h[echo.HeaderContentType] = v[0:1:1]
	h["Cache-Control"] = v[1:2:2]
	h["Pragma"] = v[2:3:3]
}
