package errors

import "net/http"

// Error codes of pushed authorization requests (RFC 9126), DPoP (RFC 9449)
// and resource indicators (RFC 8707).
var (
	// ErrInvalidRequestURI: the request_uri of an authorization request is
	// unknown, expired, already used or bound to another client (OIDC Core
	// §3.1.2.6; RFC 9126 §4 leaves the code to the server).
	ErrInvalidRequestURI = &Error{Code: "invalid_request_uri", Status: http.StatusBadRequest,
		Description: "The request_uri is invalid, expired, or was already used."}
	// ErrInvalidDPoPProof: the DPoP proof JWT is missing where it is
	// required, malformed, or fails a check (RFC 9449 §5, §7.1). 400 at the
	// token endpoint; resource servers answer it with 401.
	ErrInvalidDPoPProof = &Error{Code: "invalid_dpop_proof", Status: http.StatusBadRequest,
		Description: "The DPoP proof is invalid."}
	// ErrUseDPoPNonce: the DPoP proof must carry the nonce of the DPoP-Nonce
	// header sent with this answer (RFC 9449 §8, §9).
	ErrUseDPoPNonce = &Error{Code: "use_dpop_nonce", Status: http.StatusBadRequest,
		Description: "The DPoP proof must carry the server's nonce."}
	// ErrInvalidTarget: a resource parameter is malformed, unknown, or not
	// allowed for the client (RFC 8707 §2).
	ErrInvalidTarget = &Error{Code: "invalid_target", Status: http.StatusBadRequest,
		Description: "The requested resource is invalid, unknown, or not allowed."}
)
