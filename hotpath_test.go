package oauth2server

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The token response is written without reflection; it must be
// byte-for-byte what encoding/json writes for the same struct.
func TestTokenResponseJSONMatchesEncodingJSON(t *testing.T) {
	type plain struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int64  `json:"expires_in,omitempty"`
		RefreshToken string `json:"refresh_token,omitempty"`
		Scope        string `json:"scope,omitempty"`
	}
	tests := []struct {
		name  string
		given TokenResponse
	}{
		{"ok, client_credentials", TokenResponse{AccessToken: "abc-_DEF123", TokenType: "Bearer", ExpiresIn: 3600, Scope: "read write"}},
		{"ok, with refresh token", TokenResponse{AccessToken: "a", TokenType: "Bearer", ExpiresIn: 1, RefreshToken: "r"}},
		{"ok, omitted members", TokenResponse{AccessToken: "a", TokenType: "Bearer"}},
		{"ok, escapes", TokenResponse{AccessToken: "q\"b\\s/\n\r\t\x00\x1f", TokenType: "<&>", Scope: "é ☃ \u2028\u2029"}},
		{"ok, invalid UTF-8", TokenResponse{AccessToken: "a\xffb\xc3", TokenType: "Bearer"}},
		{"ok, negative expiry", TokenResponse{AccessToken: "a", TokenType: "Bearer", ExpiresIn: -5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(plain{tt.given.AccessToken, tt.given.TokenType, tt.given.ExpiresIn, tt.given.RefreshToken, tt.given.Scope})
			require.NoError(t, err)
			got, err := tt.given.MarshalJSON()
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		})
	}
}

func TestTokenResponseJSONExtraNeverOverridesStandardMembers(t *testing.T) {
	resp := &TokenResponse{AccessToken: "a", TokenType: "Bearer", Extra: map[string]any{"access_token": "evil", "id": 7}}
	b, err := resp.MarshalJSON()
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, "a", got["access_token"])
	assert.EqualValues(t, 7, got["id"])
}

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

func TestParseBasicAuthStackCopy(t *testing.T) {
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	bigSecret := strings.Repeat("k", 600) // decoded beyond the stack buffer
	tests := []struct {
		name               string
		header             string
		expectID, expectPW string
		expectOK           bool
	}{
		{"ok, plain", enc("c1:s3cret"), "c1", "s3cret", true},
		{"ok, lower-case scheme", "basic " + base64.StdEncoding.EncodeToString([]byte("c1:pw")), "c1", "pw", true},
		{"ok, form-urlencoded parts", enc("a%3Ab:p%26w+x"), "a:b", "p&w x", true},
		{"ok, large credentials", enc("c1:" + bigSecret), "c1", bigSecret, true},
		{"ok, empty secret", enc("c1:"), "c1", "", true},
		{"nok, no colon", enc("c1"), "", "", false},
		{"nok, empty id", enc(":pw"), "", "", false},
		{"nok, bad base64", "Basic %%%", "", "", false},
		{"nok, bad base64 large", "Basic " + strings.Repeat("%", 800), "", "", false},
		{"nok, bad escape", enc("c%zz:pw"), "", "", false},
		{"nok, not UTF-8", enc("c\xff:pw"), "", "", false},
		{"nok, bearer", "Bearer abc", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, pw, ok := parseBasicAuth(tt.header)
			assert.Equal(t, tt.expectOK, ok)
			assert.Equal(t, tt.expectID, id)
			assert.Equal(t, tt.expectPW, pw)
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
