package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/respbuf"
)

// Token returns the handler of the token endpoint (RFC 6749 §3.2). Mount it
// for every method, e.Any("/oauth/token", handlers.Token(srv)): the Server
// answers a method other than POST with a JSON 405 and no-store. Everything
// it does is configured on the Server ([oauth2server.Options]).
func Token(srv *oauth2server.Server) echo.HandlerFunc {
	return func(c echo.Context) error {
		resp, err := srv.Token(c.Request())
		if err != nil {
			return writeError(c, srv, err)
		}
		// AppendJSON writes the response without reflection (json.Marshal
		// would add a second pass over its output), into a pooled buffer.
		buf := respbuf.Get()
		defer respbuf.Put(buf)
		b, err := resp.AppendJSON(*buf)
		*buf = b[:0]
		if err != nil {
			return writeError(c, srv, oerrors.ServerError(err))
		}
		if resp.DPoPNonce != "" {
			c.Response().Header().Set("DPoP-Nonce", resp.DPoPNonce) // RFC 9449 §8.2
		}
		return write(c, http.StatusOK, b)
	}
}
