package oauth2server

import (
	"encoding/json"
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

// AppendJSON appends exactly what MarshalJSON returns, after whatever the
// buffer held, with and without extended attributes (which take the
// reflective path).
func TestTokenResponseAppendJSON(t *testing.T) {
	for _, resp := range []*TokenResponse{
		{AccessToken: "a", TokenType: "Bearer", ExpiresIn: 60, IDToken: "h.p.s"},
		{AccessToken: "a", TokenType: "Bearer", Extra: map[string]any{"scope": "evil", "id": 7}},
	} {
		want, err := resp.MarshalJSON()
		require.NoError(t, err)
		got, err := resp.AppendJSON([]byte("prefix:"))
		require.NoError(t, err)
		assert.Equal(t, "prefix:"+string(want), string(got))
	}
}

// FuzzAppendJSONString: whatever the string, appendJSONString writes what
// encoding/json writes.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "abc-_DEF.123", "\b\f", "q\"b\\s/\n\r\t\x00\x1f\x7f", "<&>", "é ☃ \u2028\u2029", "a\xffb\xc3", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(appendJSONString(nil, s)))
	})
}
