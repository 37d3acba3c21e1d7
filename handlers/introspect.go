package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// Introspect returns the handler of the introspection endpoint (RFC 7662).
// Mount it for every method, e.Any("/oauth/introspect",
// handlers.Introspect(srv)), as [Token].
// Only clients with [oauth2server.Client.Introspect] may call it.
func Introspect(srv *oauth2server.Server) echo.HandlerFunc {
	return func(c echo.Context) error {
		resp, err := srv.Introspect(c.Request())
		if err != nil {
			return writeError(c, srv, err)
		}
		return writeJSON(c, srv, resp)
	}
}
