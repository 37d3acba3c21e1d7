package oauth2server_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// client_credentials issues no refresh token and grants the
// client's scopes when none is requested.
func TestClientCredentialsGrant(t *testing.T) {
	env := newTestEnv(t)

	t.Run("ok, no scope requested grants the registered scopes", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {"client_credentials"}})
		requireOK(t, r)
		assert.Equal(t, "read write admin", r.body["scope"])
		assert.EqualValues(t, 3600, r.body["expires_in"])
		assert.NotContains(t, r.body, "refresh_token")
		tok := env.accessToken(str(r.body["access_token"]))
		assert.Equal(t, confID, tok.ClientID)
		assert.Empty(t, tok.UserID)
		assert.Empty(t, tok.RefreshToken)
		assert.NotEmpty(t, tok.GrantID)
		assert.Equal(t, env.clock.Now().Add(time.Hour), tok.AccessTokenExpiresAt)
	})
	t.Run("ok, requested scope, duplicates and extra spaces dropped", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {"client_credentials"}, "scope": {"write  read write"}})
		requireOK(t, r)
		assert.Equal(t, "write read", r.body["scope"])
	})
	t.Run("ok, the user of the client from GetUserFromClient", func(t *testing.T) {
		env.t = t
		require.NoError(t, env.model.SetClientUser(context.Background(), confID, aliceName))
		r := env.confToken(url.Values{"grant_type": {"client_credentials"}})
		requireOK(t, r)
		assert.Equal(t, aliceID, env.accessToken(str(r.body["access_token"])).UserID)
	})
	t.Run("ok, per-client access token lifetime", func(t *testing.T) {
		env.t = t
		require.NoError(t, env.model.AddClient(context.Background(), &oauth2server.Client{ID: "short", SecretHash: oauth2server.HashSecret("x"),
			Grants: []string{"client_credentials"}, AccessTokenLifetime: 90 * time.Second}))
		r := env.do(tokenReq{body: "grant_type=client_credentials", auth: basic("short", "x")})
		requireOK(t, r)
		assert.EqualValues(t, 90, r.body["expires_in"])
	})
}
