package bench

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// ceilingToken is the fixed body of the ceiling's token response: the
// members and sizes of a real client_credentials answer.
type ceilingToken struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// newCeiling is Echo with handlers that do no OAuth work: what any Echo
// handler costs to answer these requests in this harness.
func newCeiling() http.Handler {
	tok := &ceilingToken{AccessToken: randomToken(), TokenType: "Bearer", ExpiresIn: 3600, Scope: scope}
	e := echo.New()
	e.POST("/token", func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		return c.JSON(http.StatusOK, tok)
	})
	e.GET("/api/me", meHandler)
	return e
}
