package oauth2server

import (
	"context"
	"time"
)

// RequestURIPrefix starts every request_uri the pushed authorization
// request endpoint hands out (RFC 9126 §2.2).
const RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// PushedAuthorizationRequest is an authorization request a client pushed
// to the PAR endpoint (RFC 9126), kept until the authorization endpoint
// makes its decision on it.
type PushedAuthorizationRequest struct {
	// RequestURI is the request_uri handed to the client:
	// [RequestURIPrefix] and 256 random bits. Models should store only its
	// digest ([TokenDigest]), like a token.
	RequestURI string
	// ClientID is the client that pushed the request; the authorization
	// endpoint accepts the request_uri only with this client_id.
	ClientID string
	// Parameters are the request's parameters, validated and
	// form-encoded (application/x-www-form-urlencoded). The Server
	// validates them again, against the client's registration at that
	// time, when the request_uri arrives at the authorization endpoint.
	// Store and return them unchanged.
	Parameters string
	// IssuedAt is when the request was pushed.
	IssuedAt time.Time
	// ExpiresAt is when the request_uri expires (the expires_in of the
	// push, R-164).
	ExpiresAt time.Time
}

// PushedAuthorizationRequestModel stores pushed authorization requests
// (RFC 9126). With it, and the authorization_code grant, the Server
// serves the PAR endpoint ([Server.PushAuthorizationRequest]) and accepts
// request_uri at the authorization endpoint. Without it, request_uri is
// refused with request_uri_not_supported, and [PAROptions.Require] is an
// error of [New].
type PushedAuthorizationRequestModel interface {
	// SavePushedAuthorizationRequest stores a pushed request.
	SavePushedAuthorizationRequest(ctx context.Context, req *PushedAuthorizationRequest) error
	// GetPushedAuthorizationRequest returns the request with this
	// request_uri, or nil when it is unknown or was consumed. Expired
	// requests may be returned; the Server checks ExpiresAt itself.
	GetPushedAuthorizationRequest(ctx context.Context, requestURI string) (*PushedAuthorizationRequest, error)
	// ConsumePushedAuthorizationRequest marks the request used, when the
	// user's decision on it is made. It must be atomic: of any number of
	// concurrent calls for one request_uri exactly one reports true;
	// unknown or consumed ones report false.
	ConsumePushedAuthorizationRequest(ctx context.Context, requestURI string) (bool, error)
}
