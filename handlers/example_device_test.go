package handlers_test

import (
	"errors"
	"log"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// Mount the device authorization endpoint beside the token endpoint, and
// answer the application's verification page with the Server's
// verification calls.
func ExampleDeviceAuthorization() {
	m := memorymodel.New()
	srv, err := oauth2server.New(m, oauth2server.Options{
		Device: oauth2server.DeviceOptions{VerificationURI: "https://as.example.com/device"},
	})
	if err != nil {
		log.Fatal(err)
	}
	e := echo.New()
	e.Any("/oauth/token", handlers.Token(srv))
	if srv.DeviceAuthorizationEnabled() {
		e.Any("/oauth/device_authorization", handlers.DeviceAuthorization(srv))
	}
	e.POST("/device", func(c echo.Context) error {
		user := &oauth2server.User{ID: "alice"} // from your login session
		// Count wrong codes per source address (X-Forwarded-For is
		// believed only from Options.TrustedProxies) and per account.
		ctx := oauth2server.WithAttemptKey(c.Request().Context(), srv.ClientAddress(c.Request()))
		ctx = oauth2server.WithAttemptAccount(ctx, user.ID)
		err := srv.ApproveDevice(ctx, c.FormValue("user_code"), user, nil)
		switch {
		case errors.Is(err, oauth2server.ErrTooManyAttempts):
			return c.String(http.StatusTooManyRequests, "Too many wrong codes. Try again later.")
		case errors.Is(err, oauth2server.ErrInvalidUserCode):
			return c.String(http.StatusBadRequest, "This code is invalid or expired.")
		case err != nil:
			return err
		}
		return c.String(http.StatusOK, "Done. You can return to your device.")
	})
}
