// Command minimal is the quick start as a program: one confidential client
// that gets tokens with the client_credentials grant, the token endpoint,
// and one route that requires a bearer token.
//
//	go run ./example/minimal
//	curl -u service-a:a-long-random-secret -d grant_type=client_credentials http://127.0.0.1:9097/oauth/token
//	curl -H "Authorization: Bearer ACCESS_TOKEN" http://127.0.0.1:9097/api/whoami
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	oauthmw "github.com/echo-oauth2/oauth2server/middleware"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9097", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, *addr, nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "minimal:", err)
		os.Exit(1)
	}
}

// newServer returns the Echo that serves the token endpoint and the API.
func newServer() (*echo.Echo, error) {
	// The model stores clients and tokens; memorymodel keeps them in memory.
	model := memorymodel.New()
	if err := model.AddClient(context.Background(), &oauth2server.Client{
		ID:         "service-a",
		SecretHash: oauth2server.HashSecret("a-long-random-secret"),
		Grants:     []string{oauth2server.GrantClientCredentials},
		Scopes:     []string{"read"},
	}); err != nil {
		return nil, err
	}
	// The zero Options are the safe defaults; New fails on a bad combination.
	srv, err := oauth2server.New(model, oauth2server.Options{})
	if err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner = true
	e.Any("/oauth/token", handlers.Token(srv)) // any method: others get a JSON 405
	api := e.Group("/api", oauthmw.Authenticate(srv))
	api.GET("/whoami", func(c echo.Context) error {
		tok, _ := oauthmw.TokenFromContext(c) // always there behind Authenticate
		return c.JSON(http.StatusOK, map[string]string{"client_id": tok.ClientID})
	})
	return e, nil
}

// run serves on addr until ctx is done. It sends the address it listens on
// to ready, when not nil, so that "127.0.0.1:0" can be used.
func run(ctx context.Context, addr string, ready chan<- string) error {
	e, err := newServer()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutdown) // Serve then returns http.ErrServerClosed
}
