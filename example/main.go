// Command example is a complete OAuth 2.0 authorization server and OpenID
// Provider built with oauth2server: login and consent pages, the token
// endpoint, ID tokens and a protected API, seeded with a demo client and
// user.
//
//	go run ./example
//
// then open the printed URL. Flags:
//
//	-addr ADDR         listen address (default 127.0.0.1:9096)
//	-config FILE       clients and users as JSON (see config.example.json)
//	-issuer URL        public base URL (default http:// + addr)
//	-mongo-uri URI     store everything, sessions included, in MongoDB
//	                   instead of memory (needs -session-key)
//	-session-key KEY   secret key (base64, at least 32 bytes) that signs
//	                   session cookies and forms; every instance of one
//	                   deployment must use the same (default with memory:
//	                   random per process). Make one with
//	                   openssl rand -base64 32
//	-max-sessions N    cap on stored sessions; the least recently used
//	                   are evicted (default 100000)
//	-jwt               issue JWT access tokens (RFC 9068)
//	-openid            OpenID Connect: ID tokens for requests with the
//	                   openid scope (default true; -openid=false for plain
//	                   OAuth 2.0)
//	-signing-key FILE  PEM private key that signs ID tokens (RSA: RS256)
//	                   and, with -jwt, access tokens; required with -jwt and
//	                   with -mongo-uri (default with OpenID Connect in
//	                   memory: an RSA key generated at start)
//	-dev               allow a generated signing key (development only)
//	-trusted-proxy IP  a reverse proxy (IP or CIDR) whose X-Forwarded-For and
//	                   X-Forwarded-Proto are believed (repeatable)
//
// An https -issuer turns on oauth2server.Options.RequireTLS, for the
// example's pages too: the example speaks plain HTTP, so it must then sit
// behind a -trusted-proxy that terminates TLS and sends X-Forwarded-Proto:
// https.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/echo-oauth2/oauth2server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// run parses flags, starts the server and serves until ctx is done
// (SIGINT or SIGTERM in main).
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	var cfg appConfig
	var configFile string
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:9096", "listen address")
	fs.StringVar(&configFile, "config", "", "JSON file with issuer, clients and users (default: demo data)")
	fs.StringVar(&cfg.Issuer, "issuer", "", "public base URL of the server (default http://ADDR)")
	fs.StringVar(&cfg.MongoURI, "mongo-uri", "", "MongoDB URI; store clients, users, tokens and consent there")
	fs.Func("session-key", "secret key, base64 of at least 32 bytes (openssl rand -base64 32), signing session cookies\nand forms; required with -mongo-uri, the same for every instance (default: random per process)", func(v string) error {
		k, err := parseSessionKey(v)
		cfg.SessionKey = k
		return err
	})
	fs.IntVar(&cfg.MaxSessions, "max-sessions", defaultMaxSessions, "cap on stored login sessions; the least recently used are evicted")
	fs.BoolVar(&cfg.JWT, "jwt", false, "issue JWT access tokens (RFC 9068)")
	openID := fs.Bool("openid", true, "OpenID Connect: ID tokens for requests with the openid scope")
	fs.StringVar(&cfg.SigningKeyFile, "signing-key", "", "PEM private key signing ID tokens (RSA) and, with -jwt, access tokens\n(RSA, EC P-256 or Ed25519 with -openid=false); required with -jwt and -mongo-uri")
	fs.BoolVar(&cfg.Dev, "dev", false, "development mode: allow a generated signing key")
	fs.Func("trusted-proxy", "IP or CIDR of a reverse proxy whose X-Forwarded-For/-Proto are believed (repeatable);\nwith an https -issuer the OAuth endpoints then require TLS at that proxy", func(v string) error {
		cfg.TrustedProxies = append(cfg.TrustedProxies, v)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.NoOpenID = !*openID
	if configFile != "" {
		fc, err := loadConfigFile(configFile)
		if err != nil {
			return err
		}
		cfg.Data = fc
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	// Listen first, so that -addr 127.0.0.1:0 yields a real port for the
	// issuer and the demo URLs.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	cfg.Addr = ln.Addr().String()
	e, a, err := newApp(cfg)
	if err != nil {
		_ = ln.Close()
		return err
	}
	hs := newHTTPServer(e)
	a.printBanner(out)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return errors.Join(err, a.Close(context.Background()))
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = hs.Shutdown(shutdown)
	if cerr := a.Close(shutdown); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return err
}

// printBanner says what to open and how to call the endpoints.
func (a *app) printBanner(w io.Writer) {
	fmt.Fprintf(w, "oauth2server example listening on %s\n", a.issuer)
	if a.demo == nil {
		meta, _ := oauth2server.MetadataURL(a.issuer) // New accepted the issuer
		fmt.Fprintf(w, `
Clients and users come from the -config file. Open the home page to sign in:

   %s/

Authorization endpoint: %s
Metadata (every endpoint): %s

`, a.issuer, a.issuer+authorizePath, meta)
		return
	}
	fmt.Fprintf(w, `
1. Open this URL in a browser. It starts an authorization request of the
   public client %q with a state and a PKCE (S256) verifier made for your
   browser alone; sign in as %q with password %q:

   %s

2. The redirect lands on %s, which plays the client in the browser
   that started the request: it redeems the code, verifies the ID token and
   shows its claims, and the curl command that calls the API.

Client credentials (confidential client %q):

   curl -s -u %s:%s -d grant_type=client_credentials -d scope=read %s

Then call the API with the access token:

   curl -s -H "Authorization: Bearer ACCESS_TOKEN" %s

`, a.demo.ClientID, demoUsername, demoPassword, a.demo.URL, a.demo.Redirect,
		demoConfidentialClient, demoConfidentialClient, demoClientSecret, a.issuer+tokenPath, a.issuer+mePath)
}
