package oauth2server

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerifySecret(t *testing.T) {
	const secret = "hP3xq0m2Vb8sK1Lr6TzYw4Nd9Gf5Jc7AeQuRtIoPlMk"
	long := strings.Repeat("s", 300) // hashed from a heap copy, not the stack buffer
	h := HashSecret(secret)
	tests := []struct {
		name   string
		hash   string
		secret string
		expect bool
	}{
		{"ok, sha256", h, secret, true},
		{"ok, long secret", HashSecret(long), long, true},
		{"ok, empty secret hashed", HashSecret(""), "", true},
		{"nok, wrong secret", h, secret + "x", false},
		{"nok, empty secret", h, "", false},
		{"nok, truncated hash", h[:len(h)-1], secret, false},
		{"nok, hash with padding", h + "=", secret, false},
		{"nok, last character changed", h[:len(h)-1] + "A", secret, false},
		{"nok, prefix only", sha256Prefix, secret, false},
		{"nok, unknown scheme", "md5:" + h[len(sha256Prefix):], secret, false},
		{"nok, raw secret as hash", secret, secret, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.expect, VerifySecret(tt.hash, tt.secret))
		})
	}
}

func TestCryptoRandomString(t *testing.T) {
	a, b := cryptoRandomString(32), cryptoRandomString(32)
	assert.Len(t, a, 43)
	assert.NotEqual(t, a, b)
	raw, err := base64.RawURLEncoding.DecodeString(a)
	require.NoError(t, err)
	assert.Len(t, raw, 32)
	assert.Len(t, cryptoRandomString(64), 86)
}
