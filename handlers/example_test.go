package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// The README's quick start, with the curl call replaced by httptest. Keep
// the two in step.
func ExampleToken() {
	model := memorymodel.New()
	if err := model.AddClient(context.Background(), &oauth2server.Client{
		ID:         "service-a",
		SecretHash: oauth2server.HashSecret("a-long-random-secret"),
		Grants:     []string{oauth2server.GrantClientCredentials},
		Scopes:     []string{"read"},
	}); err != nil {
		log.Fatal(err)
	}
	srv, err := oauth2server.New(model, oauth2server.Options{})
	if err != nil {
		log.Fatal(err)
	}
	e := echo.New()
	e.Any("/oauth/token", handlers.Token(srv))

	// curl -u service-a:a-long-random-secret -d grant_type=client_credentials .../oauth/token
	req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("service-a", "a-long-random-secret")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)

	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Code, rec.Header().Get("Cache-Control"), body.TokenType, body.ExpiresIn, body.Scope, len(body.AccessToken) > 0)
	// Output: 200 no-store Bearer 3600 read true
}
