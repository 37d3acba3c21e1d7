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
// JWKS URL is given while the Server signs no JWT. The document is built
// once, here.
func (cfg MetadataConfig) ToHandler() (echo.HandlerFunc, error) {
	if cfg.Server == nil {
		return nil, stderrors.New("handlers: MetadataConfig.Server is required")
	}
	m, err := cfg.Server.Metadata(cfg.Endpoints)
	if err != nil {
		return nil, err
	}
	return publicDocument(m), nil
}

// OpenIDConfigurationConfig configures the OpenID Provider configuration
// handler (see [OpenIDConfigurationWithConfig]).
type OpenIDConfigurationConfig struct {
	// Server is described by the document. It must be an OpenID Provider
	// ([oauth2server.Options.OpenID]). Required.
	Server *oauth2server.Server

	// Endpoints are the absolute URLs at which the Server's endpoints are
	// mounted; the document lists exactly these. Required: the
	// authorization, token and JWKS endpoints at least (OIDC Discovery §3),
	// and the UserInfo and end session endpoints where mounted.
	Endpoints oauth2server.Endpoints
}

// OpenIDConfigurationWithConfig returns the handler of the OpenID Provider
// configuration document (OIDC Discovery §4) for cfg.Endpoints: the RFC
// 8414 metadata of the same endpoints with the OpenID Connect members
// ([oauth2server.Server.OpenIDConfiguration]), so that the two documents
// and every ID token name the same issuer. Mount it for GET and
// HEAD at [oauth2server.OpenIDConfigurationURL] of the issuer: unlike RFC
// 8414 metadata, after the issuer's path,
// e.GET("/tenant/.well-known/openid-configuration", h) for the issuer
// https://as.example.com/tenant. [Register] builds the endpoints and mounts
// it for you. It is cacheable for an hour ([MetadataCacheControl]).
//
// OpenIDConfigurationWithConfig panics when cfg is invalid;
// [OpenIDConfigurationConfig.ToHandler] returns the error instead.
func OpenIDConfigurationWithConfig(cfg OpenIDConfigurationConfig) echo.HandlerFunc {
	h, err := cfg.ToHandler()
	if err != nil {
		panic(err)
	}
	return h
}

// ToHandler returns the OpenID Provider configuration handler (see
// [OpenIDConfigurationWithConfig]), or an error when the configuration is
// invalid: no Server, or as [oauth2server.Server.OpenIDConfiguration]
// fails, when the Server is not an OpenID Provider, the authorization,
// token or JWKS endpoint is missing, or an endpoint URL is not an
// absolute https URL. The document is built once, here.
func (cfg OpenIDConfigurationConfig) ToHandler() (echo.HandlerFunc, error) {
	if cfg.Server == nil {
		return nil, stderrors.New("handlers: OpenIDConfigurationConfig.Server is required")
	}
	m, err := cfg.Server.OpenIDConfiguration(cfg.Endpoints)
	if err != nil {
		return nil, err
	}
	return publicDocument(m), nil
}

// publicDocument serves m, built once, as the metadata documents are
// served: cacheable for an hour ([MetadataCacheControl]) and readable from
// any origin, since they are public and no credential guards them (a
// browser-based relying party fetches them).
func publicDocument(m *oauth2server.Metadata) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", MetadataCacheControl)
		c.Response().Header().Set("Access-Control-Allow-Origin", "*")
		return c.JSON(http.StatusOK, m)
	}
}
