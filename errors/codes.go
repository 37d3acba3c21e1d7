package errors

import "net/http"

// RFC 6749 §4.1.2.1 and §5.2 error codes.
var (
	// ErrInvalidRequest: the request is missing a required parameter,
	// includes an unsupported or repeated parameter, or is otherwise
	// malformed.
	ErrInvalidRequest = &Error{Code: "invalid_request", Status: http.StatusBadRequest,
		Description: "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed."}
	// ErrInvalidClient: client authentication failed. 401; the endpoints
	// add WWW-Authenticate: Basic (RFC 6749 §5.2, RFC 7662 §2.3).
	ErrInvalidClient = &Error{Code: "invalid_client", Status: http.StatusUnauthorized,
		Description: "Client authentication failed."}
	// ErrInvalidGrant: the authorization grant or refresh token is invalid,
	// expired, revoked, does not match the redirection URI, or was issued to
	// another client.
	ErrInvalidGrant = &Error{Code: "invalid_grant", Status: http.StatusBadRequest,
		Description: "The provided authorization grant or refresh token is invalid, expired, revoked, or was issued to another client."}
	// ErrUnauthorizedClient: the client may not use this grant or response
	// type.
	ErrUnauthorizedClient = &Error{Code: "unauthorized_client", Status: http.StatusBadRequest,
		Description: "The client is not authorized to use this grant type."}
	// ErrUnsupportedGrantType: the grant type is not supported by the server.
	ErrUnsupportedGrantType = &Error{Code: "unsupported_grant_type", Status: http.StatusBadRequest,
		Description: "The authorization grant type is not supported by the authorization server."}
	// ErrInvalidScope: the requested scope is invalid, unknown, malformed,
	// or exceeds what was granted.
	ErrInvalidScope = &Error{Code: "invalid_scope", Status: http.StatusBadRequest,
		Description: "The requested scope is invalid, unknown, malformed, or exceeds the scope granted."}
	// ErrAccessDenied: the resource owner or the server denied the request.
	ErrAccessDenied = &Error{Code: "access_denied", Status: http.StatusBadRequest,
		Description: "The resource owner or authorization server denied the request."}
	// ErrUnsupportedResponseType: the response type is not supported.
	ErrUnsupportedResponseType = &Error{Code: "unsupported_response_type", Status: http.StatusBadRequest,
		Description: "The authorization server does not support obtaining a response with this response type."}
	// ErrServerError: an unexpected condition on the server. 503, as node
	// oauth2-server answers, so that clients and proxies retry.
	ErrServerError = &Error{Code: "server_error", Status: http.StatusServiceUnavailable,
		Description: "The authorization server encountered an unexpected condition."}
	// ErrTemporarilyUnavailable: the server is overloaded or under
	// maintenance.
	ErrTemporarilyUnavailable = &Error{Code: "temporarily_unavailable", Status: http.StatusServiceUnavailable,
		Description: "The authorization server is temporarily unable to handle the request."}
)

// RFC 6750 §3.1 error codes, used by resource servers.
var (
	// ErrInvalidToken: the access token is expired, revoked, malformed or
	// invalid. 401.
	ErrInvalidToken = &Error{Code: "invalid_token", Status: http.StatusUnauthorized,
		Description: "The access token is invalid, expired, or revoked."}
	// ErrInsufficientScope: the token lacks the scope the resource needs. 403.
	ErrInsufficientScope = &Error{Code: "insufficient_scope", Status: http.StatusForbidden,
		Description: "The request requires higher privileges than provided by the access token."}
)

// RFC 7009 §2.2.1 error code.
var (
	// ErrUnsupportedTokenType: the server does not support revoking this
	// token type.
	ErrUnsupportedTokenType = &Error{Code: "unsupported_token_type", Status: http.StatusBadRequest,
		Description: "The authorization server does not support the revocation of the presented token type."}
)

// RFC 8628 §3.5 error codes of the device authorization grant.
var (
	// ErrAuthorizationPending: the user has not yet completed the device
	// authorization.
	ErrAuthorizationPending = &Error{Code: "authorization_pending", Status: http.StatusBadRequest,
		Description: "The authorization request is still pending."}
	// ErrSlowDown: the client polls too fast; it must add 5 seconds to its
	// interval.
	ErrSlowDown = &Error{Code: "slow_down", Status: http.StatusBadRequest,
		Description: "The client is polling too frequently; increase the interval by 5 seconds."}
	// ErrExpiredToken: the device code has expired.
	ErrExpiredToken = &Error{Code: "expired_token", Status: http.StatusBadRequest,
		Description: "The device code has expired."}
)

// OpenID Connect Core 1.0 §3.1.2.6 error codes of the authorization
// endpoint. They are redirected to the client, never shown, and answer a
// request that asked for no user interaction (prompt=none) or that the
// provider cannot serve.
var (
	// ErrInteractionRequired: the request needs some user interaction.
	ErrInteractionRequired = &Error{Code: "interaction_required", Status: http.StatusBadRequest,
		Description: "The authorization server requires user interaction to proceed."}
	// ErrLoginRequired: the user must authenticate.
	ErrLoginRequired = &Error{Code: "login_required", Status: http.StatusBadRequest,
		Description: "The authorization server requires the user to authenticate."}
	// ErrAccountSelectionRequired: the user must choose an account.
	ErrAccountSelectionRequired = &Error{Code: "account_selection_required", Status: http.StatusBadRequest,
		Description: "The user must select an account."}
	// ErrConsentRequired: the user must consent.
	ErrConsentRequired = &Error{Code: "consent_required", Status: http.StatusBadRequest,
		Description: "The authorization server requires the user's consent."}
	// ErrRequestNotSupported: the request parameter (a request object) is
	// not supported.
	ErrRequestNotSupported = &Error{Code: "request_not_supported", Status: http.StatusBadRequest,
		Description: "The request parameter is not supported."}
	// ErrRequestURINotSupported: the request_uri parameter is not supported.
	ErrRequestURINotSupported = &Error{Code: "request_uri_not_supported", Status: http.StatusBadRequest,
		Description: "The request_uri parameter is not supported."}
)
