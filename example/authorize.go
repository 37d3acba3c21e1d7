package main

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/handlers"
)

// pageCSP is the Content-Security-Policy of every page: nothing from other
// origins (RFC 9700 §4.2.4) and no framing (RFC 9700 §4.16). form-action is
// left out on purpose: browsers apply it to the redirect that follows the
// consent POST, which goes to the client.
const pageCSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'"

// authorizeConfig wires the library's authorization endpoint to the
// example's session, login page, consent template and consent store.
func (a *app) authorizeConfig() *handlers.AuthorizeConfig {
	return &handlers.AuthorizeConfig{
		UserFromRequest: a.currentUser,
		// When the user last entered their password (auth_time, judged
		// against max_age and prompt=login) and how (amr): a request of
		// the session does not refresh it.
		AuthenticationFromRequest: func(c echo.Context) (oauth2server.Authentication, error) {
			s, err := a.sessions.current(c)
			if s == nil || err != nil {
				return oauth2server.Authentication{}, err
			}
			return s.authentication(), nil
		},
		// Binds the consent form to the login session: a form from another
		// session, or from before a logout, is refused.
		SessionFromRequest: a.currentSession,
		// Shared by every instance, so that a form rendered by one is
		// accepted by the next. The library spends each form when it is
		// posted, in the model's counters, which every instance shares.
		CSRFKey:    a.sessions.keys.consent,
		CSRFMaxAge: consentFormMaxAge,
		// nobody is redirected to a client before logging in. A
		// request that needs a fresh login (prompt=login, max_age) adds
		// prompt=login to the login page's URL, and login_hint when the
		// client sent one (loginPage).
		LoginRequired: handlers.RedirectToLogin(loginPath),
		Render:        a.renderConsent,
		RenderError:   a.renderAuthorizeError,
		// A client the user already approved for these scopes skips the
		// consent page (when its identity is assured, see
		// handlers.AuthorizeConfig.Consents).
		Consents: a.consents,
	}
}

// currentUser returns the logged-in user of the request, or nil.
func (a *app) currentUser(c echo.Context) (*oauth2server.User, error) {
	s, err := a.sessions.current(c)
	if s == nil || err != nil {
		return nil, err
	}
	return s.user(), nil
}

// currentSession identifies the login session of the request, "" without
// one: the store key of the session (a digest of the cookie value, never
// the value), new at every login and gone after logout.
func (a *app) currentSession(c echo.Context) (string, error) {
	s, err := a.sessions.current(c)
	if s == nil || err != nil {
		return "", err
	}
	return s.key, nil
}

// consentData is the data of consent.html.
type consentData struct {
	ClientID    string
	User        string
	Scopes      []scopeItem
	RedirectURI string
	// Action posts the decision back to the authorization endpoint with the
	// same query, which the server validates again: the form carries only
	// the decision and the CSRF token, never the client or redirect URI.
	Action string
	CSRF   string
}

func (a *app) renderConsent(c echo.Context, page *handlers.ConsentPage) error {
	c.Response().Header().Set("Content-Security-Policy", pageCSP)
	ar := page.Request
	return a.pages.render(c, http.StatusOK, "consent.html", consentData{
		ClientID:    ar.Client.ID,
		User:        page.User.Username,
		Scopes:      scopeItems(ar.Scope),
		RedirectURI: ar.RedirectURI,
		Action:      authorizePath + page.Action,
		CSRF:        page.CSRFToken,
	})
}

// renderAuthorizeError shows an error that must not be redirected to the
// client: an unknown client or redirect URI, an expired or spent
// consent form.
func (a *app) renderAuthorizeError(c echo.Context, err *oerrors.Error) error {
	c.Response().Header().Set("Content-Security-Policy", pageCSP)
	return a.pages.render(c, err.Status, "error.html", errorData{
		Title: "Authorization failed", Message: err.Description,
	})
}
