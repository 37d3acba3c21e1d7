package errors

import "net/http"

// Error codes of pushed authorization requests (RFC 9126) and DPoP (RFC
// 9449); invalid_target (RFC 8707) is in target.go.
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
)
