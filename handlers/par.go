package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// PushedAuthorization returns the handler of the pushed authorization
// request endpoint (RFC 9126 §2). Mount it for every method, as [Token],
// only when srv.PushedAuthorizationEnabled():
//
//	e.Any("/oauth/par", handlers.PushedAuthorization(srv))
//
// Success is 201 Created with request_uri and expires_in; errors are the
// token endpoint's JSON (RFC 9126 §2.3). Both carry Cache-Control:
// no-store.
func PushedAuthorization(srv *oauth2server.Server) echo.HandlerFunc {
	return func(c echo.Context) error {
		resp, err := srv.PushAuthorizationRequest(c.Request())
		if err != nil {
			return writeError(c, srv, err)
		}
		b, err := json.Marshal(resp)
		if err != nil {
			return writeError(c, srv, oerrors.ServerError(err))
		}
		return write(c, http.StatusCreated, b)
	}
}
