package oauth2server

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVerifyPKCE(t *testing.T) {
	// the test vector of RFC 7636 Appendix B.
	assert.Equal(t, RFC7636Challenge, S256Challenge(RFC7636Verifier))
	tests := []struct {
		name                        string
		method, challenge, verifier string
		expect                      bool
	}{
		{"ok, S256 (R-56)", PKCEMethodS256, RFC7636Challenge, RFC7636Verifier, true},
		{"ok, plain", PKCEMethodPlain, RFC7636Verifier, RFC7636Verifier, true},
		{"nok, S256 wrong verifier (R-56)", PKCEMethodS256, RFC7636Challenge, RFC7636Verifier[:42] + "Y", false},
		{"nok, S256 challenge sent as plain", PKCEMethodS256, RFC7636Verifier, RFC7636Verifier, false},
		{"nok, S256 short challenge", PKCEMethodS256, RFC7636Challenge[:42], RFC7636Verifier, false},
		{"nok, plain mismatch", PKCEMethodPlain, RFC7636Verifier, RFC7636Verifier + "a", false},
		{"nok, unknown method", "S512", RFC7636Challenge, RFC7636Verifier, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.expect, verifyPKCE(tt.method, tt.challenge, tt.verifier))
		})
	}
}
