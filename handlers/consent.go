package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// consentSkippable reports whether a remembered consent may stand in for the
// user's interaction with this request. RFC 6749 §10.2 and RFC 8252 §8.6
// say repeated requests must not be approved automatically unless the
// client's identity is assured: a confidential client proves it at the token
// endpoint, a public client only through an https redirect URI that it
// registered verbatim. A public client with a loopback or custom-scheme
// redirect URI can be impersonated by any local program, so it sees the
// consent page every time.
func consentSkippable(ar *oauth2server.AuthorizeRequest) bool {
	if len(ar.Scope) == 0 || !slices.Contains(ar.Client.RedirectURIs, ar.RedirectURI) {
		return false
	}
	if !ar.Client.IsPublic() {
		return true
	}
	u, err := url.Parse(ar.RedirectURI)
	return err == nil && u.Scheme == "https"
}

// rememberedConsent answers a GET whose user already approved the client for
// every scope of the request, without showing the consent page. handled is
// false when the page must be shown.
func (h *authorizeHandler) rememberedConsent(c echo.Context, ar *oauth2server.AuthorizeRequest,
	user *oauth2server.User) (handled bool, err error) {
	if h.cfg.Consents == nil || !consentSkippable(ar) {
		return false, nil
	}
	r := c.Request()
	consent, err := h.cfg.Consents.FindConsent(r.Context(), ar.Client.ID, user.ID)
	if err != nil {
		return true, h.showError(c, oerrors.ServerError(fmt.Errorf("handlers: FindConsent: %w", err)))
	}
	if !oauth2server.ConsentCovers(consent, ar.Scope) {
		return false, nil
	}
	target, err := h.srv.Authorize(r.Context(), ar, user, oauth2server.Decision{Approved: true, Scope: ar.Scope})
	if err != nil {
		redirect, page := h.srv.AuthorizeErrorResponse(r, err)
		if page != nil {
			return true, h.cfg.RenderError(c, page)
		}
		target = redirect
	}
	return true, c.Redirect(http.StatusFound, target)
}

// rememberConsent adds the scope the user just approved to what they
// approved for the client before. A store fault is logged and does not
// fail the request: the code is already issued, and the next request only
// shows the consent page again.
func (h *authorizeHandler) rememberConsent(c echo.Context, ar *oauth2server.AuthorizeRequest,
	user *oauth2server.User, d oauth2server.Decision) {
	if h.cfg.Consents == nil || !d.Approved {
		return
	}
	ctx := c.Request().Context()
	granted := d.Scope
	if granted == nil {
		granted = ar.Scope
	}
	old, err := h.cfg.Consents.FindConsent(ctx, ar.Client.ID, user.ID)
	if err == nil {
		scope := slices.Clone(granted)
		if old != nil {
			for _, s := range old.Scope {
				if !slices.Contains(scope, s) {
					scope = append(scope, s)
				}
			}
		}
		err = h.cfg.Consents.SaveConsent(ctx, &oauth2server.Consent{
			ClientID: ar.Client.ID, UserID: user.ID, Scope: scope, GrantedAt: h.now(),
		})
	}
	if err != nil {
		h.srv.Logger().ErrorContext(ctx, "handlers: remembering consent failed", "client_id", ar.Client.ID, "error", err)
	}
}
