package handlers

import (
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

// JWKS returns the handler of the JWK Set (RFC 7517) with the public keys
// that verify the server's JWT access tokens, cacheable for
// [DefaultJWKSMaxAge]. It answers 404 when access tokens are opaque.
func JWKS(srv *oauth2server.Server) echo.HandlerFunc {
	return JWKSWithMaxAge(srv, DefaultJWKSMaxAge)
}

// JWKSWithMaxAge is [JWKS] with another cache lifetime; zero or less
// means [DefaultJWKSMaxAge].
func JWKSWithMaxAge(srv *oauth2server.Server, maxAge time.Duration) echo.HandlerFunc {
	if maxAge <= 0 {
		maxAge = DefaultJWKSMaxAge
	}
	cache := "public, max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	return func(c echo.Context) error {
		set := srv.JWKS()
		if set == nil {
			return c.NoContent(http.StatusNotFound)
		}
		c.Response().Header().Set("Cache-Control", cache)
		c.Response().Header().Set(echo.HeaderContentType, "application/jwk-set+json")
		return c.JSON(http.StatusOK, set)
	}
}
