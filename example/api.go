package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oauthmw "github.com/echo-oauth2/oauth2server/middleware"
)

// meResponse is the body of GET /api/me.
type meResponse struct {
	// Sub is the user, or the client when no user is involved
	// (client_credentials), as in JWT access tokens (RFC 9068 §2.2).
	Sub      string `json:"sub"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

// me answers who the token speaks for. Any valid token may call it.
func (a *app) me(c echo.Context) error {
	tok, ok := oauthmw.TokenFromContext(c)
	if !ok {
		return echo.ErrUnauthorized
	}
	sub := tok.UserID
	if sub == "" {
		sub = tok.ClientID
	}
	return c.JSON(http.StatusOK, meResponse{Sub: sub, ClientID: tok.ClientID, Scope: oauth2server.FormatScope(tok.Scope)})
}

// write stands for an action that changes data: it needs scope write.
func (a *app) write(c echo.Context) error {
	tok, _ := oauthmw.TokenFromContext(c)
	return c.JSON(http.StatusOK, map[string]string{"status": "written", "client_id": tok.ClientID})
}
