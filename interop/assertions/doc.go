// Package assertions tests client assertions (private_key_jwt), the JWT
// bearer grant (RFC 7523) and token exchange (RFC 8693) of oauth2server
// with clients nobody here wrote: zitadel/oidc's client, token exchange
// and resource server packages, and golang.org/x/oauth2/jwt. Its tests
// run an oauth2server with handlers.Register and memorymodel on a
// loopback httptest server.
package assertions
