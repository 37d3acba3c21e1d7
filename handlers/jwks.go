package handlers

import (
	stderrors "errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// DefaultJWKSMaxAge is how long resource servers and proxies may cache the
// JWK Set. A new key must be published at least this long before it signs
// (docs/jwt.md, "Rotation").
const DefaultJWKSMaxAge = 15 * time.Minute

// JWKSConfig configures the JWK Set handler (see [JWKSWithConfig]).
type JWKSConfig struct {
	// Server publishes its public signing keys. Required.
	Server *oauth2server.Server

	// MaxAge is how long clients and proxies may cache the set
	// (Cache-Control: public, max-age), in whole seconds. Optional.
	// Default [DefaultJWKSMaxAge]; negative is an error.
	MaxAge time.Duration
}

// JWKS returns the handler of the JWK Set (RFC 7517) with the public keys
// that verify the server's JWTs, access tokens (RFC 9068) and ID tokens
// alike, cacheable for [DefaultJWKSMaxAge]. It answers 404 when the Server
// signs nothing (opaque access tokens without OpenID Connect): mount it
// when [oauth2server.Server.PublishesJWKS] reports true, for GET and HEAD:
//
//	e.GET("/oauth/jwks.json", handlers.JWKS(srv))
//
// It panics when srv is nil.
func JWKS(srv *oauth2server.Server) echo.HandlerFunc {
	return JWKSWithConfig(JWKSConfig{Server: srv})
}

// JWKSWithConfig returns the [JWKS] handler with cfg. It panics when cfg
// is invalid; [JWKSConfig.ToHandler] returns the error instead.
func JWKSWithConfig(cfg JWKSConfig) echo.HandlerFunc {
	h, err := cfg.ToHandler()
	if err != nil {
		panic(err)
	}
	return h
}

// ToHandler returns the JWK Set handler (see [JWKS]), or an error when
// the configuration is invalid.
func (cfg JWKSConfig) ToHandler() (echo.HandlerFunc, error) {
	if cfg.Server == nil {
		return nil, stderrors.New("handlers: JWKSConfig.Server is required")
	}
	if cfg.MaxAge < 0 {
		return nil, stderrors.New("handlers: JWKSConfig.MaxAge must not be negative")
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultJWKSMaxAge
	}
	srv := cfg.Server
	cache := "public, max-age=" + strconv.FormatInt(int64(cfg.MaxAge/time.Second), 10)
	return func(c echo.Context) error {
		set := srv.JWKS()
		if set == nil {
			return c.NoContent(http.StatusNotFound)
		}
		c.Response().Header().Set("Cache-Control", cache)
		// A public document without credentials: any origin may read it,
		// as a browser-based relying party must (no cookies are involved).
		c.Response().Header().Set("Access-Control-Allow-Origin", "*")
		c.Response().Header().Set(echo.HeaderContentType, "application/jwk-set+json")
		return c.JSON(http.StatusOK, set)
	}, nil
}
