package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// MetadataCacheControl lets clients cache the metadata document briefly: it
// changes only with a redeploy.
const MetadataCacheControl = "public, max-age=3600"

// Metadata returns the handler of the authorization server metadata
// (RFC 8414) for the given mounted endpoints. Mount it at
// [oauth2server.MetadataURL] of the issuer: for an issuer without a path,
// e.GET("/.well-known/oauth-authorization-server", h). It fails as
// [oauth2server.Server.Metadata] does: when Options.Issuer is empty, an
// endpoint URL is not an absolute https URL (http only on loopback), or a
// JWKS URL is given while access tokens are opaque.
// [Register] builds the endpoints and mounts it for you.
func Metadata(srv *oauth2server.Server, ep oauth2server.Endpoints) (echo.HandlerFunc, error) {
	m, err := srv.Metadata(ep)
	if err != nil {
		return nil, err
	}
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", MetadataCacheControl)
		return c.JSON(http.StatusOK, m)
	}, nil
}
