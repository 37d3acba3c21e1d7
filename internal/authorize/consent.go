package authorize

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"

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
func (q *request) rememberedConsent(ar *oauth2server.AuthorizeRequest, user *oauth2server.User,
	auth oauth2server.Authentication) (handled bool, err error) {
	if q.consents == nil || !consentSkippable(ar) || ar.MustAskConsent() {
		// prompt=consent asks again even when the user approved before
		//
		return false, nil
	}
	r := q.r
	consent, err := q.findConsent(ar, user)
	if err != nil {
		return true, q.showError(oerrors.ServerError(err))
	}
	if !oauth2server.ConsentCovers(consent, ar.Scope) {
		return false, nil
	}
	target, err := q.srv.Authorize(r.Context(), ar, user,
		oauth2server.Decision{Approved: true, Scope: ar.Scope, Authentication: auth})
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	if err != nil {
		return true, q.fail(status, ar, err)
	}
	return true, q.respond(status, target, ar.ResponseMode)
}

// findConsent returns the user's live consent for the client, or nil. An
// expired consent is nil here even when the model returns it, so that the
// user is asked again and a widening does not revive its scope.
func (q *request) findConsent(ar *oauth2server.AuthorizeRequest, user *oauth2server.User) (*oauth2server.Consent, error) {
	consent, err := q.consents.FindConsent(q.r.Context(), ar.Client.ID, user.ID)
	if err != nil {
		return nil, fmt.Errorf("%s: FindConsent: %w", q.name, err)
	}
	if consent != nil && consent.Expired(q.now()) {
		return nil, nil
	}
	return consent, nil
}

// rememberConsent adds the scope the user just approved to what they
// approved for the client before, under the old consent's id, and starts
// its lifetime again. A store fault is logged and does not fail the
// request: the code is already issued, and the next request only shows
// the consent page again.
func (q *request) rememberConsent(ar *oauth2server.AuthorizeRequest, user *oauth2server.User, d oauth2server.Decision) {
	if q.consents == nil || !d.Approved {
		return
	}
	ctx := q.r.Context()
	granted := d.Scope
	if granted == nil {
		granted = ar.Scope
	}
	old, err := q.findConsent(ar, user)
	if err == nil {
		now := q.now()
		c := &oauth2server.Consent{ClientID: ar.Client.ID, UserID: user.ID, Scope: slices.Clone(granted), GrantedAt: now}
		if old != nil && old.ID != "" {
			c.ID = old.ID
		} else {
			c.ID = oauth2server.NewConsentID()
		}
		if old != nil {
			for _, s := range old.Scope {
				if !slices.Contains(c.Scope, s) {
					c.Scope = append(c.Scope, s)
				}
			}
		}
		if q.consentLifetime > 0 {
			c.ExpiresAt = now.Add(q.consentLifetime)
		}
		err = q.consents.SaveConsent(ctx, c)
	}
	if err != nil {
		q.srv.Logger().ErrorContext(ctx, q.name+": remembering consent failed", "client_id", ar.Client.ID, "error", err)
	}
}
