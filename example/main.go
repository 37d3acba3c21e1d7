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
//	-fapi              enforce the FAPI 2.0 Security Profile (docs/fapi.md)
//	-dpop-nonce        DPoP proofs must carry a nonce the server issued
//	                   (RFC 9449 §8, §9; docs/dpop.md); turns DPoP on
//	-trusted-proxy IP  a reverse proxy (IP or CIDR) whose X-Forwarded-For and
//	                   X-Forwarded-Proto are believed (repeatable)
//	-shutdown-timeout D  how long SIGTERM or SIGINT waits for requests in
//	                   flight before closing their connections (default 10s)
//
// It serves Prometheus metrics at /metrics, liveness at /healthz and
// readiness (MongoDB answers) at /readyz; docs/operations.md lists the
// metrics. On SIGTERM or SIGINT it stops accepting connections, lets the
// requests in flight finish, closes the MongoDB client and exits 0; a
// second signal ends it at once.
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

// defaultShutdownTimeout bounds the drain on SIGTERM: below the 30 s an
// orchestrator usually waits before SIGKILL, above any answer the server
// gives in time (its write timeout is 30 s, but only a stalled client
// takes that long).
const defaultShutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
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
	var shutdownTimeout time.Duration
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
	fs.StringVar(&cfg.SigningKeyFile, "signing-key", "", "PEM private key signing ID tokens (RSA; EC P-256 or Ed25519 with -fapi) and, with -jwt, access tokens\n(RSA, EC P-256 or Ed25519 with -openid=false); required with -jwt and -mongo-uri")
	fs.BoolVar(&cfg.Dev, "dev", false, "development mode: allow a generated signing key")
	fs.BoolVar(&cfg.FAPI, "fapi", false, "enforce the FAPI 2.0 Security Profile: PAR, PKCE, DPoP, private_key_jwt clients (docs/fapi.md)")
	fs.BoolVar(&cfg.DPoPNonce, "dpop-nonce", false, "DPoP proofs must carry a nonce the server issued (RFC 9449 §8, §9); turns DPoP on")
	fs.Func("trusted-proxy", "IP or CIDR of a reverse proxy whose X-Forwarded-For/-Proto are believed (repeatable);\nwith an https -issuer the OAuth endpoints then require TLS at that proxy", func(v string) error {
		cfg.TrustedProxies = append(cfg.TrustedProxies, v)
		return nil
	})
	var auditFile string
	fs.StringVar(&auditFile, "audit-log", "", "file to append audit events to as JSON lines, - for standard output (default: none)")
	fs.DurationVar(&shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout,
		"on SIGTERM or SIGINT, how long to wait for requests in flight before closing their connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.NoOpenID = !*openID
	if shutdownTimeout <= 0 {
		return errors.New("-shutdown-timeout must be positive")
	}
	switch auditFile {
	case "":
	case "-":
		cfg.AuditLog = out
	default:
		f, err := os.OpenFile(auditFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("-audit-log: %w", err)
		}
		defer f.Close()
		cfg.AuditLog = f
	}
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
	// Stop accepting, let the requests in flight finish, then close the
	// store (the MongoDB client) once nothing uses it.
	cfg.Logger.Info("example: shutting down: draining requests in flight", "timeout", shutdownTimeout)
	drain, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err = hs.Shutdown(drain); err != nil {
		err = fmt.Errorf("requests still in flight after -shutdown-timeout %s: %w", shutdownTimeout, err)
		_ = hs.Close() // cut them
	}
	closing, cancelClose := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelClose()
	if cerr := a.Close(closing); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err == nil {
		cfg.Logger.Info("example: stopped")
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
		if a.srv.OpenIDEnabled() {
			disco, _ := oauth2server.OpenIDConfigurationURL(a.issuer)
			fmt.Fprintf(w, "OpenID Provider configuration: %s\n", disco)
		}
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintf(w, `
1. Open this URL in a browser. It starts an authorization request of the
   public client %q with a state and a PKCE (S256) verifier made for your
   browser alone; sign in as %q with password %q:

   %s

2. The redirect lands on %s, which plays the client in the browser
   that started the request: it redeems the code, verifies the ID token,
   shows its claims and UserInfo, the curl command that calls the API,
   and a button that signs out through the client (RP-initiated logout).

Client credentials (confidential client %q):

   curl -s -u %s:%s -d grant_type=client_credentials -d scope=read %s

Then call the API with the access token:

   curl -s -H "Authorization: Bearer ACCESS_TOKEN" %s

`, a.demo.ClientID, demoUsername, demoPassword, a.demo.URL, a.demo.Redirect,
		demoConfidentialClient, demoConfidentialClient, demoClientSecret, a.issuer+tokenPath, a.issuer+mePath)
}
