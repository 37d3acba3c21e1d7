package handlers

import (
	stderrors "errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// MetadataCacheControl lets clients cache the metadata document briefly: it
// changes only with a redeploy.
const MetadataCacheControl = "public, max-age=3600"

// MetadataConfig configures the metadata handler (see
// [MetadataWithConfig]).
type MetadataConfig struct {
	// Server is described by the document. Required.
	Server *oauth2server.Server

	// Endpoints are the absolute URLs at which the Server's endpoints are
	// mounted; the document lists exactly these. Required: there is no
	// default, since only the application knows where it mounted them.
	Endpoints oauth2server.Endpoints
}

// MetadataWithConfig returns the handler of the authorization server
// metadata (RFC 8414) for cfg.Endpoints. Mount it for GET and HEAD at
// [oauth2server.MetadataURL] of the issuer: for an issuer without a path,
// e.GET("/.well-known/oauth-authorization-server", h).
// [Register] builds the endpoints and mounts it for you.
//
// There is no Metadata(srv) with defaults: the document must list the
// endpoints where the application mounted them.
//
// MetadataWithConfig panics when cfg is invalid;
// [MetadataConfig.ToHandler] returns the error instead.
func MetadataWithConfig(cfg MetadataConfig) echo.HandlerFunc {
	h, err := cfg.ToHandler()
	if err != nil {
		panic(err)
	}
	return h
}

// ToHandler returns the metadata handler (see [MetadataWithConfig]), or an
// error when the configuration is invalid: no Server, or as
// [oauth2server.Server.Metadata] fails, when Options.Issuer is empty, an
// endpoint URL is not an absolute https URL (http only on loopback), or a
// JWKS URL is given while access tokens are opaque. The document is built
// once, here.
func (cfg MetadataConfig) ToHandler() (echo.HandlerFunc, error) {
	if cfg.Server == nil {
		return nil, stderrors.New("handlers: MetadataConfig.Server is required")
	}
	m, err := cfg.Server.Metadata(cfg.Endpoints)
	if err != nil {
		return nil, err
	}
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", MetadataCacheControl)
		return c.JSON(http.StatusOK, m)
	}, nil
}
