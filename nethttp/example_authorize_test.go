package nethttp_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// The authorization endpoint has no defaults-only form: the application
// says who is logged in. AuthorizeWithConfig panics on a configuration
// error at startup; ToHandler returns it.
func ExampleAuthorizeWithConfig() {
	model := memorymodel.New()
	if err := model.AddClient(context.Background(), &oauth2server.Client{
		ID:           "web",
		SecretHash:   oauth2server.HashSecret("a-long-random-secret"),
		RedirectURIs: []string{"https://web.example/callback"},
		Grants:       []string{oauth2server.GrantAuthorizationCode},
		Scopes:       []string{"profile"},
	}); err != nil {
		log.Fatal(err)
	}
	srv, err := oauth2server.New(model, oauth2server.Options{Issuer: "https://as.example"})
	if err != nil {
		log.Fatal(err)
	}

	_, err = nethttp.AuthorizeConfig{Server: srv}.ToHandler()
	fmt.Println(err)

	mux := http.NewServeMux()
	mux.Handle("/oauth/authorize", nethttp.AuthorizeWithConfig(nethttp.AuthorizeConfig{
		Server: srv,
		UserFromRequest: func(r *http.Request) (*oauth2server.User, error) {
			return &oauth2server.User{ID: "alice"}, nil // your session lookup
		},
		LoginRequired: nethttp.RedirectToLogin("/login"),
	}))

	req := httptest.NewRequest(http.MethodGet, "/oauth/authorize?response_type=code&client_id=web"+
		"&redirect_uri=https%3A%2F%2Fweb.example%2Fcallback&scope=profile&state=xyz", nil)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), `name="csrf_token"`))
	// Output:
	// nethttp: AuthorizeConfig.UserFromRequest is required
	// 200 true
}
