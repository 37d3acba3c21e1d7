// Command fapiclient is a FAPI 2.0 client of the example server started
// with -fapi (docs/fapi.md, "FAPI demo"). It authenticates with
// private_key_jwt and gets a DPoP-bound access token:
//
//	fapiclient [-key fapi-client.pem] jwks    # the JWK Set to register
//	fapiclient [-key fapi-client.pem] config  # a -config file for the example
//	fapiclient [-key fapi-client.pem]         # PAR → login → code → token → /api/me
//
// The key is a P-256 private key made with
//
//	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out fapi-client.pem
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/echo-oauth2/oauth2server/example/internal/fapiclient"
)

func main() {
	log.SetFlags(0)
	keyFile := flag.String("key", "fapi-client.pem", "the client's P-256 private key (PEM, PKCS #8)")
	issuer := flag.String("issuer", "http://127.0.0.1:9096", "the authorization server's issuer")
	clientID := flag.String("client-id", fapiclient.DemoClientID, "the client's ID")
	redirectURI := flag.String("redirect-uri", fapiclient.DemoRedirectURI, "the client's registered https redirect URI")
	scope := flag.String("scope", fapiclient.DemoScope, "the scope to ask for")
	flag.Parse()

	key, err := fapiclient.LoadKey(*keyFile)
	if err != nil {
		log.Fatal(err)
	}
	switch flag.Arg(0) {
	case "jwks":
		jwks, err := fapiclient.JWKS(key)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(jwks))
		return
	case "config":
		cfg, err := fapiclient.Config(*issuer, key)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(cfg))
		return
	case "":
	default:
		log.Fatalf("unknown command %q: jwks, config, or none to run the flow", flag.Arg(0))
	}
	if err := run(context.Background(), &fapiclient.Client{
		Issuer: *issuer, ClientID: *clientID, RedirectURI: *redirectURI, Scope: *scope, Key: key,
	}, os.Stdin, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run walks the flow: the user opens the authorization URL, signs in,
// approves, and pastes the address the browser was redirected to (the
// profile allows only https redirect URIs, so the demo has no loopback
// listener to receive it).
func run(ctx context.Context, c *fapiclient.Client, in io.Reader, out io.Writer) error {
	if err := c.Discover(ctx); err != nil {
		return err
	}
	p, err := c.Push(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Pushed the authorization request (%d). Open this URL, sign in and approve:\n\n  %s\n\n", p.Status, p.AuthURL)
	fmt.Fprintf(out, "Then paste the address the browser was sent to (%s?code=...):\n> ", c.RedirectURI)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("reading the redirect: %w", err)
	}
	code, err := p.Code(c, line)
	if err != nil {
		return err
	}
	tok, err := c.Exchange(ctx, p, code)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nAccess token (%s, %d s, scope %q): %s\n", tok.TokenType, tok.ExpiresIn, tok.Scope, tok.AccessToken)
	me := strings.TrimSuffix(c.Issuer, "/") + "/api/me"
	resp, body, err := c.Get(ctx, me, tok)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "GET %s with DPoP: %s\n%s\n", me, resp.Status, strings.TrimSpace(string(body)))
	return nil
}
