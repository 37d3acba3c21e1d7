package oauth2server

import (
	"crypto/subtle"
	"encoding/base64"
)

// PKCE code challenge methods (RFC 7636 §4.2).
const (
	PKCEMethodS256  = "S256"
	PKCEMethodPlain = "plain"
)

// ValidPKCEString reports whether s is a valid code_verifier or
// code_challenge: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "."
// / "_" / "~" (RFC 7636 §4.1, §4.2).
func ValidPKCEString(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// S256Challenge returns BASE64URL(SHA256(verifier)), the S256 code challenge
// of a verifier (RFC 7636 §4.2).
func S256Challenge(verifier string) string {
	sum := sum256(verifier)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// verifyPKCE reports whether verifier matches challenge under method, in
// constant time.
func verifyPKCE(method, challenge, verifier string) bool {
	switch method {
	case PKCEMethodS256:
		return digestTextEqual(sum256(verifier), challenge)
	case PKCEMethodPlain:
		return subtle.ConstantTimeCompare([]byte(verifier), []byte(challenge)) == 1
	default:
		return false
	}
}
