package main

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// appsPath is the "Connected apps" page: the clients the signed-in user
// authorized, each with a button that disconnects it.
const appsPath = "/apps"

// appsData is the data of apps.html.
type appsData struct {
	CSRF string
	Apps []connectedApp
	// Revoked names the client just disconnected, for the confirmation.
	Revoked string
}

// connectedApp is one row of the page.
type connectedApp struct {
	ClientID  string
	Scope     string
	FirstUsed string
	LastUsed  string
}

// appsPage lists the signed-in user's authorizations
// (Server.ListAuthorizations): consent and live token families.
func (a *app) appsPage(c echo.Context) error {
	s, err := a.sessions.current(c)
	if err != nil {
		return a.serverError(c, err)
	}
	if s == nil {
		return c.Redirect(http.StatusFound, loginPath+"?return_to="+appsPath)
	}
	return a.renderApps(c, s, http.StatusOK, "")
}

func (a *app) renderApps(c echo.Context, s *session, status int, revoked string) error {
	auths, err := a.srv.ListAuthorizations(c.Request().Context(), s.userID)
	if err != nil {
		return a.serverError(c, err)
	}
	d := appsData{CSRF: a.sessions.csrf(s), Revoked: revoked}
	for _, au := range auths {
		d.Apps = append(d.Apps, connectedApp{ClientID: au.ClientID, Scope: strings.Join(au.Scope, " "),
			FirstUsed: when(au.FirstUsed), LastUsed: when(au.LastUsed)})
	}
	return a.pages.render(c, status, "apps.html", d)
}

// appsRevoke disconnects one client: its remembered consent is deleted
// and every token family of the user with it revoked
// (Server.RevokeAuthorization), JWT access tokens deny-listed. The form
// carries the session's CSRF token, so another site cannot post it.
func (a *app) appsRevoke(c echo.Context) error {
	s, err := a.sessions.current(c)
	if err != nil {
		return a.serverError(c, err)
	}
	if !a.sessions.validCSRF(s, postForm(c, csrfField)) {
		return a.badCSRF(c)
	}
	clientID := postForm(c, "client_id")
	if clientID == "" {
		return a.pages.render(c, http.StatusBadRequest, "error.html",
			errorData{Title: "No app", Message: "The form named no app to disconnect."})
	}
	if err := a.srv.RevokeAuthorization(c.Request().Context(), s.userID, clientID); err != nil {
		return a.serverError(c, err)
	}
	return a.renderApps(c, s, http.StatusOK, clientID)
}

// when formats a time for the page, "—" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
