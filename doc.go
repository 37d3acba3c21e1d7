// Package oauth2server is an OAuth 2.0 authorization server built around a
// storage Model that you implement, in the spirit of node's oauth2-server.
//
// The root package is framework-agnostic: [Server.Token] and the other
// endpoint methods work on a plain *http.Request. The handlers and
// middleware packages mount them on Echo, package nethttp on net/http
// (http.ServeMux, chi, gorilla/mux), with the same answers.
//
// It follows RFC 6749 (OAuth 2.0), RFC 6750 (bearer tokens), RFC 7636
// (PKCE), RFC 7009 (revocation), RFC 7662 (introspection), RFC 8414
// (metadata), RFC 8628 (device grant), RFC 9068 (JWT access tokens), RFC
// 9207 (iss in authorization responses), OpenID Connect Core 1.0 with
// Discovery, RP-Initiated Logout and the Form Post Response Mode
// ([Options.OpenID]), and the OAuth 2.0 Security Best Current Practice
// (RFC 9700).
//
// # Model
//
// A [Model] has two methods, GetClient and SaveToken. Everything else is an
// optional capability interface ([AuthorizationCodeModel],
// [RefreshTokenModel], [PasswordModel], ...) that [New] detects once by type
// assertion. Enabling a grant whose capability is missing is an error from
// [New] that names the missing method, never a panic at request time.
// Optional hooks ([AccessTokenGenerator], [ScopeValidator], ...) fall back to
// safe defaults when absent.
//
// Models report "not found" by returning a nil value and a nil error; any
// non-nil error is a storage fault and is answered as server_error without
// showing its text to the client.
package oauth2server
