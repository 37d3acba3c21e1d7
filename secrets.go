package oauth2server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

const sha256Prefix = "sha256:"

// HashSecret returns the storage form of a high-entropy secret (a generated
// client secret): "sha256:" followed by the base64url SHA-256 digest. A fast
// hash is right for 256-bit random secrets; for human passwords use
// [HashPassword].
func HashSecret(secret string) string {
	sum := sum256(secret)
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
		// Compare the base64url text of the digests, which HashSecret
		// writes canonically, so that neither side is decoded into a
		// heap buffer on every client authentication.
		return digestTextEqual(sum256(secret), hash[len(sha256Prefix):])
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(secret)) == nil
	default:
		return false
	}
}

// digestTextEqual reports in constant time whether text is the unpadded
// base64url encoding of sum. Comparing encoded text (which HashSecret and
// S256 challenges are, canonically) avoids decoding into a heap buffer on
// every client authentication and PKCE check.
func digestTextEqual(sum [sha256.Size]byte, text string) bool {
	var enc [43]byte // base64.RawURLEncoding.EncodedLen(sha256.Size)
	if len(text) != len(enc) {
		return false
	}
	base64.RawURLEncoding.Encode(enc[:], sum[:])
	var diff byte
	for i := range enc {
		diff |= enc[i] ^ text[i]
	}
	return subtle.ConstantTimeByteEq(diff, 0) == 1
}

// sum256 is sha256.Sum256 of a string. Strings of up to 256 bytes (every
// token, code, verifier and generated secret) are hashed from a stack copy:
// converting them with []byte(s) would allocate on each call.
func sum256(s string) [sha256.Size]byte {
	var buf [256]byte
	if len(s) <= len(buf) {
		n := copy(buf[:], s)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(s))
}

// dummySecretHash is verified against when a client is unknown, so that an
// unknown client costs the same as a wrong secret (decision 3 of docs/requirements.md).
var dummySecretHash = HashSecret("oauth2server: no such client")

// TokenDigest returns the SHA-256 digest of a token, code or secret as
// base64url text: the form in which models should store and index token
// strings so that a copy of the database does not hold usable tokens
// (RFC 6819 §5.1.4.1.3).
func TokenDigest(token string) string {
	sum := sum256(token)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomString returns n (at most 64) random bytes from r (crypto/rand
// when nil), base64url-encoded without padding.
func randomString(r io.Reader, n int) (string, error) {
	if r == nil {
		return cryptoRandomString(n), nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// cryptoRandomString is randomString from crypto/rand, with its buffers on
// the stack: the only allocation is the returned string.
func cryptoRandomString(n int) string {
	var raw [64]byte
	var text [86]byte // base64.RawURLEncoding.EncodedLen(64)
	b := raw[:n]
	// crypto/rand.Read never fails (it crashes the program instead).
	_, _ = rand.Read(b)
	m := base64.RawURLEncoding.EncodedLen(n)
	base64.RawURLEncoding.Encode(text[:m], b)
	return string(text[:m])
}

// bcryptDummies caches one bcrypt hash per cost for [DummyHashLike].
var bcryptDummies sync.Map // int -> string

// DummyHashLike returns a hash of the same kind and cost as hash, for
// models to verify against when a user or client is unknown: an unknown
// name then costs as much as a wrong password, so response time does not
// reveal which names exist (RFC 6749 §10.10, SECURITY R-28). For an
// unrecognised hash it returns a [HashSecret] hash.
func DummyHashLike(hash string) string {
	if cost, err := bcrypt.Cost([]byte(hash)); err == nil {
		if d, ok := bcryptDummies.Load(cost); ok {
			return d.(string)
		}
		h, err := bcrypt.GenerateFromPassword([]byte("oauth2server: no such user"), cost)
		if err != nil {
			return dummySecretHash
		}
		d, _ := bcryptDummies.LoadOrStore(cost, string(h))
		return d.(string)
	}
	return dummySecretHash
}
