package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/handlers"
)

// endSessionConfig wires the end session endpoint (OpenID Connect
// RP-Initiated Logout) to the example: a client's logout request ends the
// login session as the logout form does. The library asks the user first
// unless the request carries a valid id_token_hint of the signed-in user
// and redirects only to a registered post_logout_redirect_uri
//
func (a *app) endSessionConfig() *handlers.EndSessionConfig {
	return &handlers.EndSessionConfig{
		Logout: func(c echo.Context, _ *oauth2server.EndSessionRequest) error {
			return a.endSession(c)
		},
		UserFromRequest:    a.currentUser,
		SessionFromRequest: a.currentSession,
		Confirm:            a.renderLogoutConfirm,
		LoggedOut:          a.renderLoggedOut,
		RenderError:        a.renderEndSessionError,
		// Shared by every instance, like the consent form's key.
		CSRFKey:    a.sessions.keys.logout,
		CSRFMaxAge: consentFormMaxAge,
	}
}

// logoutData is the data of logout.html.
type logoutData struct {
	User   string
	Client string
	// ClientVerified is set when a valid id_token_hint names the client;
	// otherwise the client is only what the request claims.
	ClientVerified bool
	Action         string
	Fields         []handlers.LogoutField
}

func (a *app) renderLogoutConfirm(c echo.Context, page *handlers.LogoutPage) error {
	c.Response().Header().Set("Content-Security-Policy", pageCSP)
	d := logoutData{Action: page.Action, Fields: page.Fields, ClientVerified: page.Request.HintValid}
	if page.User != nil {
		d.User = page.User.Username
	}
	if page.Request.Client != nil {
		d.Client = page.Request.Client.ID
	}
	return a.pages.render(c, http.StatusOK, "logout.html", d)
}

func (a *app) renderLoggedOut(c echo.Context, _ *oauth2server.EndSessionRequest) error {
	c.Response().Header().Set("Content-Security-Policy", pageCSP)
	return a.pages.render(c, http.StatusOK, "logged_out.html", nil)
}

// renderEndSessionError shows an invalid logout request, never redirected
//
func (a *app) renderEndSessionError(c echo.Context, err *oerrors.Error) error {
	c.Response().Header().Set("Content-Security-Policy", pageCSP)
	return a.pages.render(c, err.Status, "error.html", errorData{
		Title: "Sign-out failed", Message: err.Description,
	})
}
