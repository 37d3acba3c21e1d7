//go:build authz

package main

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

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

// authorize is GET of the authorization endpoint (RFC 6749 §4.1.1): it
// validates the request, sends an anonymous user to the login page, skips
// the consent page when the user already approved these scopes, and shows
// it otherwise.
func (a *app) authorize(c echo.Context) error {
	req := c.Request()
	ar, err := a.srv.ValidateAuthorizeRequest(req)
	if err != nil {
		return a.authorizeError(c, http.StatusFound, err)
	}
	sess := a.sessions.get(c)
	if sess == nil || sess.user == nil {
		// the user is authenticated before any redirect to the client.
		return c.Redirect(http.StatusFound, loginPath+"?"+url.Values{"return_to": {req.URL.RequestURI()}}.Encode())
	}
	ctx := req.Context()
	consent, err := a.model.FindConsent(ctx, ar.Client.ID, sess.user.ID)
	if err != nil {
		return a.serverError(c, err)
	}
	// Remembered consent skips the page only for a redirect URI registered
	// verbatim: with the loopback port exception (RFC 8252 §7.3) any local
	// program could receive the code without the user noticing
	// (RFC 6749 §10.2, R-43).
	if oauth2server.ConsentCovers(consent, ar.Scope) && slices.Contains(ar.Client.RedirectURIs, ar.RedirectURI) {
		to, err := a.srv.Authorize(ctx, ar, sess.user, oauth2server.Decision{Approved: true, Scope: ar.Scope})
		if err != nil {
			return a.authorizeError(c, http.StatusFound, err)
		}
		return c.Redirect(http.StatusFound, to)
	}
	return a.pages.render(c, http.StatusOK, "consent.html", consentData{
		ClientID:    ar.Client.ID,
		User:        sess.user.Username,
		Scopes:      scopeItems(ar.Scope),
		RedirectURI: ar.RedirectURI,
		Action:      authorizePath + "?" + req.URL.RawQuery,
		CSRF:        sess.csrf,
	})
}

// decide is POST of the authorization endpoint: the user's answer on the
// consent page. It validates the query again, checks the CSRF token
// (RFC 6749 §10.12, R-42), remembers an approval and redirects with 303
// (RFC 9700 §4.12, R-35).
func (a *app) decide(c echo.Context) error {
	req := c.Request()
	ar, err := a.srv.ValidateAuthorizeRequest(req)
	if err != nil {
		return a.authorizeError(c, http.StatusSeeOther, err)
	}
	sess := a.sessions.get(c)
	if !validCSRF(sess, postForm(c, csrfField)) {
		return a.badCSRF(c)
	}
	if sess.user == nil {
		return c.Redirect(http.StatusSeeOther, loginPath+"?"+url.Values{"return_to": {authorizePath + "?" + req.URL.RawQuery}}.Encode())
	}
	var d oauth2server.Decision
	switch postForm(c, "decision") {
	case "approve":
		d = oauth2server.Decision{Approved: true, Scope: ar.Scope}
	case "deny":
		d = oauth2server.Decision{Approved: false}
	default:
		return a.pages.render(c, http.StatusBadRequest, "error.html", errorData{
			Title: "Invalid request", Message: "The form did not say whether to approve or deny.",
		})
	}
	ctx := req.Context()
	to, err := a.srv.Authorize(ctx, ar, sess.user, d)
	if err != nil {
		return a.authorizeError(c, http.StatusSeeOther, err)
	}
	if d.Approved {
		if err := a.rememberConsent(c, ar, sess.user); err != nil {
			return a.serverError(c, err)
		}
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// rememberConsent adds the scopes the user just approved to what they
// approved for the client before.
func (a *app) rememberConsent(c echo.Context, ar *oauth2server.AuthorizeRequest, user *oauth2server.User) error {
	ctx := c.Request().Context()
	old, err := a.model.FindConsent(ctx, ar.Client.ID, user.ID)
	if err != nil {
		return err
	}
	scope := slices.Clone(ar.Scope)
	if old != nil {
		for _, s := range old.Scope {
			if !slices.Contains(scope, s) {
				scope = append(scope, s)
			}
		}
	}
	return a.model.SaveConsent(ctx, &oauth2server.Consent{
		ClientID: ar.Client.ID, UserID: user.ID, Scope: scope, GrantedAt: time.Now(),
	})
}

// authorizeError answers an error of the authorization endpoint: redirected
// to the client when its redirect URI was validated, else shown on a page
// and never redirected (RFC 6749 §4.1.2.1, R-33).
func (a *app) authorizeError(c echo.Context, redirectStatus int, err error) error {
	to, page := a.srv.AuthorizeErrorResponse(c.Request(), err)
	if to != "" {
		return c.Redirect(redirectStatus, to)
	}
	return a.pages.render(c, page.Status, "error.html", errorData{
		Title: "Authorization failed", Message: page.Description,
	})
}
