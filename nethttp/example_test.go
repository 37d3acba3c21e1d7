package nethttp_test

import (
	"fmt"
	"net/http"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// Mount the endpoints on an http.ServeMux and protect a route.
func Example() {
	srv, err := oauth2server.New(memorymodel.New(), oauth2server.Options{Issuer: "https://as.example.com"})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/oauth/token", nethttp.Token(srv))
	mux.Handle("/oauth/revoke", nethttp.Revoke(srv))
	mux.Handle("/oauth/introspect", nethttp.Introspect(srv))

	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := nethttp.TokenFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", tok.UserID)
	})
	mux.Handle("GET /api/me", nethttp.Authenticate(srv)(nethttp.RequireScope("profile")(me)))
	fmt.Println("mounted")
	// Output: mounted
}
