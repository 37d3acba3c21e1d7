package oauth2server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

type nopModel struct{}

func (nopModel) GetClient(_ context.Context, _ string) (*Client, error) { return nil, nil }
func (nopModel) SaveToken(_ context.Context, _ *Token, _ *Client, _ *User) error {
	return nil
}
func (nopModel) IsJTIRevoked(_ context.Context, _ string) (bool, error) { return false, nil }
func (nopModel) RevokeJTI(_ context.Context, _ string, _ time.Time) error {
	return nil
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
