// Package errors defines the OAuth 2.0 error type of oauth2server and one
// sentinel per error code of RFC 6749 (§4.1.2.1, §5.2), RFC 6750 (§3.1),
// RFC 7009 (§2.2.1) and RFC 8628 (§3.5).
//
// Every failure a client can cause is an [*Error] with a fixed, ASCII-only
// description; a fault of the server or of the storage becomes
// [ErrServerError] and keeps its cause only for logs (via [errors.Unwrap]).
//
// Sentinels are never mutated: the With… builders return copies, and
// [errors.Is] compares error codes, so
//
//	errors.Is(ErrInvalidGrant.WithDescription("code expired"), ErrInvalidGrant) == true
package errors

import (
	stderrors "errors"
	"fmt"
	"net/http"
	"time"
)

// Error is an OAuth 2.0 protocol error.
//
// Code, Description and URI are what the client sees (the "error",
// "error_description" and "error_uri" members). Status is the HTTP status the
// token, introspection and revocation endpoints answer with. The wrapped
// cause is never shown to a client.
type Error struct {
	// Code is the RFC error code, e.g. "invalid_grant".
	Code string
	// Description is a human-readable ASCII text for the client developer.
	// It never contains request input or internal error text.
	Description string
	// URI optionally identifies a page with more information.
	URI string
	// Status is the HTTP status code of the response.
	Status int
	// RetryAfter, when positive, is sent as the Retry-After header (in
	// whole seconds, rounded up) of a throttled (429) or unavailable (503)
	// answer (RFC 6585 §4, RFC 9110 §10.2.3).
	RetryAfter time.Duration

	cause error
}

// Error implements the error interface. It includes the cause, if any, so
// that logs show it; use [Error.Description] for anything a client sees.
func (e *Error) Error() string {
	s := e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap returns the cause given with [Error.WithCause].
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, ErrInvalidGrant) matches any invalid_grant error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Code == e.Code
}

func (e *Error) clone() *Error {
	c := *e
	return &c
}

// WithDescription returns a copy of e with the given description. The text
// must be ASCII without '"' or '\\' (RFC 6749 Appendix A.7); it is a fixed
// string chosen by the server, never request input.
func (e *Error) WithDescription(description string) *Error {
	c := e.clone()
	c.Description = description
	return c
}

// WithDescriptionf is [Error.WithDescription] with fmt formatting. Arguments
// must not come from the request.
func (e *Error) WithDescriptionf(format string, args ...any) *Error {
	return e.WithDescription(fmt.Sprintf(format, args...))
}

// WithURI returns a copy of e with the given error URI.
func (e *Error) WithURI(uri string) *Error {
	c := e.clone()
	c.URI = uri
	return c
}

// WithStatus returns a copy of e with another HTTP status.
func (e *Error) WithStatus(status int) *Error {
	c := e.clone()
	c.Status = status
	return c
}

// WithRetryAfter returns a copy of e that asks the client to wait d before
// trying again.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := e.clone()
	c.RetryAfter = d
	return c
}

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up, at least 1;
// 0 when RetryAfter is not positive.
func (e *Error) RetryAfterSeconds() int64 {
	if e.RetryAfter <= 0 {
		return 0
	}
	return int64((e.RetryAfter + time.Second - 1) / time.Second)
}

// WithCause returns a copy of e that wraps cause. The cause is for logs only.
func (e *Error) WithCause(cause error) *Error {
	c := e.clone()
	c.cause = cause
	return c
}

// From converts any error into an *Error: an *Error anywhere in err's chain
// is returned as it is; anything else becomes [ErrServerError] wrapping err,
// so that its text never reaches a client. From(nil) is nil.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if stderrors.As(err, &e) && e != nil {
		return e
	}
	return ErrServerError.WithCause(err)
}

// ServerError returns [ErrServerError] wrapping cause.
func ServerError(cause error) *Error {
	return ErrServerError.WithCause(cause)
}

// IsServerError reports whether err would be answered as server_error or
// temporarily_unavailable, i.e. it is the server's fault, not the client's.
func IsServerError(err error) bool {
	e := From(err)
	return e != nil && e.Status >= http.StatusInternalServerError
}
