// Package interop tests the example server (go run ./example) with clients
// nobody here wrote: github.com/coreos/go-oidc with golang.org/x/oauth2,
// the relying party of github.com/zitadel/oidc, and a headless Chromium.
//
// It is a module of its own, so that those clients never enter the
// library's go.mod. The tests build ./example once, start it as a
// subprocess on a free loopback port with a -config file of their own
// (clients whose redirect URIs are the test's relying parties, a user with
// claims) and an RSA -signing-key, and sign in and consent through its real
// pages, as a user does:
//
//	cd interop && go test -race ./...
//
// make test runs them with the other modules. Chromium is CHROMIUM_PATH or
// /usr/bin/chromium; without it the browser test skips, except with
// CI=true, where it fails.
package interop
