package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// DeviceAuthorization returns the handler of the device authorization
// endpoint (RFC 8628 §3.1). Mount it for every method, as [Token], only
// when srv.DeviceAuthorizationEnabled():
//
//	e.Any("/oauth/device_authorization", handlers.DeviceAuthorization(srv))
//
// The response carries the device code, so it is sent with Cache-Control:
// no-store like a token response.
func DeviceAuthorization(srv *oauth2server.Server) echo.HandlerFunc {
	return func(c echo.Context) error {
		resp, err := srv.DeviceAuthorization(c.Request())
		if err != nil {
			return writeError(c, srv, err)
		}
		return writeJSON(c, srv, resp)
	}
}
