// Package dpop checks oauth2server's DPoP (RFC 9449) against proofs made
// by go-jose, a JOSE implementation this project did not write: token
// requests, the PAR endpoint and protected resources over real HTTP, with
// ES256, EdDSA, PS256 and RS256 keys. It has only tests.
package dpop
