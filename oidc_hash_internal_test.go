package oauth2server

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
)

// at_hash is the left half of the hash of the JWS algorithm (OIDC Core
// §3.1.3.6): SHA-256 for RS256 and ES256, SHA-512 for EdDSA (Ed25519).
func TestAppendTokenHash(t *testing.T) {
	const token = "dNZX1hEZ9wBCzNL40Upu646bdzQA"
	s256 := sha256.Sum256([]byte(token))
	s512 := sha512.Sum512([]byte(token))
	enc := base64.RawURLEncoding
	var testCases = []struct {
		givenAlg string
		expect   string
	}{
		{givenAlg: AlgRS256, expect: enc.EncodeToString(s256[:16])},
		{givenAlg: AlgES256, expect: enc.EncodeToString(s256[:16])},
		{givenAlg: AlgEdDSA, expect: enc.EncodeToString(s512[:32])},
	}
	for _, tc := range testCases {
		t.Run(tc.givenAlg, func(t *testing.T) {
			assert.Equal(t, `x`+tc.expect, string(appendTokenHash([]byte("x"), tc.givenAlg, token)))
		})
	}
}
