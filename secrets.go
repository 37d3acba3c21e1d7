package oauth2server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

const sha256Prefix = "sha256:"

// HashSecret returns the storage form of a high-entropy secret (a generated
// client secret): "sha256:" followed by the base64url SHA-256 digest. A fast
// hash is right for 256-bit random secrets; for human passwords use
// [HashPassword].
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return sha256Prefix + base64.RawURLEncoding.EncodeToString(sum[:])
}

// HashPassword returns a bcrypt hash of a human-chosen password, for models
// that store users. Passwords longer than 72 bytes are rejected by bcrypt.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// VerifySecret reports whether secret matches hash, which is either the
// output of [HashSecret] or a bcrypt hash ($2a$, $2b$, $2y$). Comparison is
// constant-time: it compares fixed-length digests, never raw strings.
func VerifySecret(hash, secret string) bool {
	switch {
	case strings.HasPrefix(hash, sha256Prefix):
		want, err := base64.RawURLEncoding.DecodeString(hash[len(sha256Prefix):])
		if err != nil || len(want) != sha256.Size {
			return false
		}
		got := sha256.Sum256([]byte(secret))
		return subtle.ConstantTimeCompare(got[:], want) == 1
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(secret)) == nil
	default:
		return false
	}
}

// dummySecretHash is verified against when a client is unknown, so that an
// unknown client costs the same as a wrong secret (SECURITY.md Part 2 §3).
var dummySecretHash = HashSecret("oauth2server: no such client")

// TokenDigest returns the SHA-256 digest of a token, code or secret as
// base64url text: the form in which models should store and index token
// strings so that a copy of the database does not hold usable tokens
// (RFC 6819 §5.1.4.1.3).
func TokenDigest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomString returns n random bytes from r (crypto/rand when nil),
// base64url-encoded without padding.
func randomString(r io.Reader, n int) (string, error) {
	var buf [64]byte
	b := buf[:n]
	if r == nil {
		// crypto/rand.Read never fails (it crashes the program instead).
		_, _ = rand.Read(b)
	} else if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
