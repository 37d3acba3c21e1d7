package handlers_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// Mount every endpoint under the issuer's path in one call. The RFC 8414
// metadata of an issuer with a path lives outside that path, at
// /.well-known/oauth-authorization-server/oauth, so Register mounts it on
// Root; it lists exactly the endpoints mounted.
func ExampleRegister() {
	srv, err := oauth2server.New(memorymodel.New(), oauth2server.Options{
		Issuer: "https://as.example.com/oauth", // Required by Register.
	})
	if err != nil {
		log.Fatal(err)
	}
	e := echo.New()
	if err := handlers.Register(e.Group("/oauth"), srv, handlers.RegisterConfig{
		Root: e,
		// Leave Authorize nil to mount no authorization endpoint.
		Authorize: &handlers.AuthorizeConfig{
			UserFromRequest: func(c echo.Context) (*oauth2server.User, error) {
				return nil, nil // the user of your login session, nil when nobody is logged in
			},
		},
	}); err != nil {
		log.Fatal(err)
	}

	req := httptest.NewRequest(http.MethodGet, "https://as.example.com/.well-known/oauth-authorization-server/oauth", nil)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var meta oauth2server.Metadata
	if err := json.Unmarshal(rec.Body.Bytes(), &meta); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Code, meta.Issuer)
	fmt.Println(meta.AuthorizationEndpoint)
	fmt.Println(meta.TokenEndpoint)
	fmt.Println(meta.RevocationEndpoint)
	fmt.Println(meta.IntrospectionEndpoint)
	// Output:
	// 200 https://as.example.com/oauth
	// https://as.example.com/oauth/authorize
	// https://as.example.com/oauth/token
	// https://as.example.com/oauth/revoke
	// https://as.example.com/oauth/introspect
}
