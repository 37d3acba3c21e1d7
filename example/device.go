package main

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// devicePath is the verification page of the device flow (RFC 8628 §3.3):
// the user enters the code their TV or CLI shows, signs in, and approves.
const (
	devicePath              = "/device"
	deviceAuthorizationPath = "/oauth/device_authorization"
)

// deviceData is the data of device.html, which has three steps: enter the
// code, confirm the request, done.
type deviceData struct {
	CSRF     string
	UserCode string
	Error    string
	// Request is set on the confirmation step.
	Client string
	Scopes []scopeItem
	// Done is the final message.
	Done string
}

// devicePage shows the code entry form, prefilled from
// verification_uri_complete. Only a logged-in user sees it.
func (a *app) devicePage(c echo.Context) error {
	s, err := a.sessions.current(c)
	if err != nil {
		return a.serverError(c, err)
	}
	if s == nil {
		return c.Redirect(http.StatusFound, loginPath+"?"+url.Values{"return_to": {c.Request().URL.RequestURI()}}.Encode())
	}
	return a.pages.render(c, http.StatusOK, "device.html", deviceData{
		CSRF: a.sessions.csrf(s), UserCode: c.QueryParam("user_code"),
	})
}

// deviceSubmit handles both forms of the page: without a decision it looks
// the code up and asks for confirmation; with one it approves or denies.
// Wrong codes count against the caller's address and against the signed-in
// account, so that the short user codes cannot be guessed, not even from
// many addresses (RFC 8628 §5.1; ).
func (a *app) deviceSubmit(c echo.Context) error {
	s, err := a.sessions.current(c)
	if err != nil {
		return a.serverError(c, err)
	}
	if !a.sessions.validCSRF(s, postForm(c, csrfField)) {
		return a.badCSRF(c)
	}
	ctx := oauth2server.WithAttemptKey(c.Request().Context(), a.srv.ClientAddress(c.Request()))
	ctx = oauth2server.WithAttemptAccount(ctx, s.user().ID)
	code := postForm(c, "user_code")
	d := deviceData{CSRF: a.sessions.csrf(s), UserCode: code}

	switch postForm(c, "decision") {
	case "":
		var dc *oauth2server.DeviceCode
		if dc, err = a.srv.LookupUserCode(ctx, code); err == nil {
			d.UserCode = dc.UserCode
			d.Client = dc.ClientID
			d.Scopes = scopeItems(dc.Scope)
			return a.pages.render(c, http.StatusOK, "device.html", d)
		}
	case "approve":
		if err = a.srv.ApproveDevice(ctx, code, s.user(), nil); err == nil {
			d.Done = "Approved. You can return to your device."
		}
	case "deny":
		if err = a.srv.DenyDevice(ctx, code); err == nil {
			d.Done = "Denied. The device will not get access."
		}
	default:
		return a.pages.render(c, http.StatusBadRequest, "error.html", errorData{
			Title: "Invalid request", Message: "The form did not say whether to approve or deny.",
		})
	}
	switch {
	case err == nil:
		return a.pages.render(c, http.StatusOK, "device.html", d)
	case errors.Is(err, oauth2server.ErrTooManyAttempts):
		if secs := oerrors.From(err).RetryAfterSeconds(); secs > 0 {
			c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		}
		d.Error = "Too many wrong codes were entered. Wait a few minutes and try again."
		return a.pages.render(c, http.StatusTooManyRequests, "device.html", d)
	case errors.Is(err, oauth2server.ErrInvalidUserCode):
		d.Error = "This code is invalid, expired, or was already used. Check the code on your device."
		return a.pages.render(c, http.StatusBadRequest, "device.html", d)
	default:
		return a.serverError(c, err)
	}
}
