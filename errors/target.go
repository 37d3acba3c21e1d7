package errors

import "net/http"

// RFC 8693 §2.2.2 and RFC 8707 §2 error code.
var (
	// ErrInvalidTarget: the authorization server will not issue a token
	// for a requested target (audience or resource): unknown, malformed or
	// not allowed.
	ErrInvalidTarget = &Error{Code: "invalid_target", Status: http.StatusBadRequest,
		Description: "The requested resource or audience is invalid, unknown, or not allowed."}
)
