package main

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// pagesRequireTLS applies the library's TLS rule ([oauth2server.Server.CheckTLS],
// on with an https issuer) to the example's own pages, the login, consent,
// logout, callback and device pages and the rest: a request that did not
// arrive over TLS, or from a trusted proxy saying it received it over TLS,
// is refused with a page, never redirected to https (a redirect would
// already have sent the form or cookie in clear; RFC 6749 §3.1, §10.3).
// The OAuth endpoints, the API and the metadata are left to the library,
// which answers them in its own format. The operational endpoints carry
// no credentials and are probed and scraped from inside the deployment,
// over plain HTTP.
func (a *app) pagesRequireTLS(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if strings.HasPrefix(p, oauthPrefix+"/") || strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/.well-known/") ||
			p == metricsPath || p == healthPath || p == readyPath {
			return next(c)
		}
		if a.srv.CheckTLS(c.Request()) != nil {
			c.Response().Header().Set("Cache-Control", "no-store")
			return a.pages.render(c, http.StatusBadRequest, "error.html", errorData{
				Title:   "HTTPS required",
				Message: "This server requires HTTPS. Open it with its https:// address.",
			})
		}
		return next(c)
	}
}
