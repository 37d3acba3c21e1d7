package oauth2server_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// New checks the model and the options once, at startup. The Server's
// methods then answer requests: they work on a plain *http.Request;
// package handlers mounts them on Echo, package nethttp on net/http. A
// handler that calls [oauth2server.Server.Token] itself must send the
// response with the headers of [oauth2server.SetJSONHeaders]
// (Cache-Control: no-store) and answer an error as
// [oauth2server.Server.PrepareError] prepares it.
func ExampleNew() {
	model := memorymodel.New() // or your own Model
	if err := model.AddClient(context.Background(), &oauth2server.Client{
		ID:         "service-a",
		SecretHash: oauth2server.HashSecret("a-long-random-secret"),
		Grants:     []string{oauth2server.GrantClientCredentials},
		Scopes:     []string{"read"},
	}); err != nil {
		log.Fatal(err)
	}
	// The zero Options are the safe defaults; set only what you need.
	srv, err := oauth2server.New(model, oauth2server.Options{Issuer: "https://as.example.com"})
	if err != nil {
		log.Fatal(err)
	}

	req := httptest.NewRequest(http.MethodPost, "https://as.example.com/oauth/token",
		strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("service-a", "a-long-random-secret")
	resp, err := srv.Token(req)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.TokenType, resp.ExpiresIn, resp.Scope, resp.Token.ClientID)

	// A bad configuration is an error from New, never a panic later.
	_, err = oauth2server.New(model, oauth2server.Options{Issuer: "http://as.example.com"})
	fmt.Println(err)
	// Output:
	// Bearer 3600 read service-a
	// oauth2server: Issuer "http://as.example.com" must use https (http only on loopback, for development)
}
