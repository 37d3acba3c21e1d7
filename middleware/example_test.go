package middleware_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	oauthmw "github.com/echo-oauth2/oauth2server/middleware"
)

// Protect a group of routes with bearer tokens and one route with an extra
// scope. Handlers read the token with the typed accessors; a type assertion
// on c.Get would compile with any type and fail at run time.
func ExampleAuthenticate() {
	model := memorymodel.New()
	srv, err := oauth2server.New(model, oauth2server.Options{})
	if err != nil {
		panic(err)
	}
	// A token as the token endpoint would have issued it.
	_ = model.SaveToken(context.Background(), &oauth2server.Token{
		AccessToken: "t0ken", AccessTokenExpiresAt: time.Now().Add(time.Hour),
		Scope: []string{"profile"}, ClientID: "app", UserID: "alice",
	}, nil, nil)

	e := echo.New()
	e.Use(middleware.Recover())
	api := e.Group("/api", oauthmw.Authenticate(srv))
	api.GET("/me", func(c echo.Context) error {
		user, _ := oauthmw.UserIDFromContext(c)
		return c.String(http.StatusOK, "hello "+user)
	}, oauthmw.RequireScope("profile"))
	api.GET("/admin", func(c echo.Context) error { return c.NoContent(http.StatusOK) },
		oauthmw.RequireScope("admin"))

	for _, r := range []struct{ path, auth string }{
		{"/api/me", "Bearer t0ken"},
		{"/api/me", ""},
		{"/api/me", "Bearer wrong"},
		{"/api/admin", "Bearer t0ken"},
	} {
		req := httptest.NewRequest(http.MethodGet, r.path, nil)
		if r.auth != "" {
			req.Header.Set("Authorization", r.auth)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			fmt.Println(rec.Code, rec.Body.String())
			continue
		}
		fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	// Output:
	// 200 hello alice
	// 401 Bearer realm="oauth2server"
	// 401 Bearer realm="oauth2server", error="invalid_token", error_description="The access token is unknown."
	// 403 Bearer realm="oauth2server", error="insufficient_scope", error_description="The access token does not have the scope this resource requires.", scope="admin"
}
