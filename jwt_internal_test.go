package oauth2server

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// The hand-written claims of signAccessToken must be byte for byte what
// encoding/json makes of accessTokenClaims, escaping included, so that
// verifiers see the same token as before and no input can break out of a
// JSON string.
func TestAppendAccessTokenClaims(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		name string
		tok  *Token
		sub  string
	}{
		{"ok, plain", &Token{ID: "jti-1", ClientID: "app", Scope: []string{"read", "write"}}, "user-1"},
		{"ok, no scope", &Token{ID: "jti-2", ClientID: "app"}, "app"},
		{"ok, characters JSON escapes", &Token{ID: "j\"t\\i", ClientID: "a<b>&c\u2028\n", Scope: []string{"x"}}, "u\x01\xff\u2029"},
		{"ok, a delegation's act claim (R-159)", &Token{ID: "jti-3", ClientID: "app", Scope: []string{"read"},
			Actor: &Actor{Subject: "svc-a", ClientID: "app", Actor: &Actor{Subject: "svc-b", Issuer: "https://idp.example"}}}, "user-1"},
		{"ok, DPoP-bound (R-175)", &Token{ID: "j", ClientID: "c", DPoPJKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}, "u"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.tok.IssuedAt = now
			tc.tok.AccessTokenExpiresAt = now.Add(time.Hour)
			got, err := appendAccessTokenClaims(nil, "https://as.example.com", tc.sub, "https://api.example.com", tc.tok)
			require.NoError(t, err)
			claims := &accessTokenClaims{
				Issuer: "https://as.example.com", Subject: tc.sub, Audience: jwt.ClaimStrings{"https://api.example.com"},
				Expiry: now.Add(time.Hour).Unix(), IssuedAt: now.Unix(), ID: tc.tok.ID, ClientID: tc.tok.ClientID,
				Scope: FormatScope(tc.tok.Scope), Act: tc.tok.Actor,
			}
			if tc.tok.DPoPJKT != "" {
				claims.Cnf = &Confirmation{JKT: tc.tok.DPoPJKT}
			}
			want, err := json.Marshal(claims)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		})
	}
}

// A JWT larger than the cap is refused before its header or claims are
// decoded, even with a valid signature; one just under it verifies.
func TestParseJWTAccessTokenSizeCap(t *testing.T) {
	now := time.Now()
	srv, err := New(nopModel{}, Options{Issuer: "https://as.example.com", Audience: "https://api.example.com",
		JWT: &JWTOptions{}, AllowGeneratedKeys: true, GeneratedKeyAlgorithm: "ES256"})
	require.NoError(t, err)
	sign := func(scopes int) string {
		tok := &Token{ID: "jti", ClientID: "c", IssuedAt: now, AccessTokenExpiresAt: now.Add(time.Hour)}
		for i := range scopes {
			tok.Scope = append(tok.Scope, fmt.Sprintf("scope-%05d", i))
		}
		raw, err := srv.signAccessToken(tok)
		require.NoError(t, err)
		return raw
	}
	small := sign(3500) // about 56 KiB
	require.Less(t, len(small), maxAccessTokenBytes)
	_, err = srv.parseJWTAccessToken(small, 0)
	require.NoError(t, err)
	big := sign(4500) // about 72 KiB
	require.Greater(t, len(big), maxAccessTokenBytes)
	_, err = srv.parseJWTAccessToken(big, 0)
	assert.Equal(t, "invalid_token", oerrors.From(err).Code)
}
