package modeltest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// fullClient is a client with every field set.
func fullClient() *oauth2server.Client {
	c := &oauth2server.Client{
		ID:                       random("client-"),
		SecretHash:               oauth2server.HashSecret("s3cret"),
		RedirectURIs:             []string{"https://app.example/cb", "https://app.example/cb2"},
		Grants:                   []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantRefreshToken, oauth2server.GrantClientCredentials},
		Scopes:                   []string{"read", "write"},
		AccessTokenLifetime:      5 * time.Minute,
		RefreshTokenLifetime:     48 * time.Hour,
		TokenEndpointAuthMethod:  oauth2server.AuthMethodClientSecretBasic,
		Introspect:               true,
		PostLogoutRedirectURIs:   []string{"https://app.example/bye"},
		SubjectType:              oauth2server.SubjectPairwise,
		SectorIdentifier:         "app.example",
		IDTokenSignedResponseAlg: oauth2server.AlgES256,
		// Either JWKS or JWKSURI is used, never both; the store keeps both.
		JWKS:                        `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		JWKSURI:                     "https://app.example/jwks.json",
		TokenEndpointAuthSigningAlg: oauth2server.AlgEdDSA,
		Extra:                       extra(),
	}
	c.RequirePushedAuthorizationRequests = true
	c.DPoPBoundAccessTokens = true
	return c
}

// assertClient checks every field of a client.
func assertClient(t *testing.T, want, got *oauth2server.Client) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.ID, got.ID)
	assert.Equal(t, want.SecretHash, got.SecretHash)
	assertStrings(t, want.RedirectURIs, got.RedirectURIs, "RedirectURIs")
	assertStrings(t, want.Grants, got.Grants, "Grants")
	assertStrings(t, want.Scopes, got.Scopes, "Scopes")
	assert.Equal(t, want.AccessTokenLifetime, got.AccessTokenLifetime)
	assert.Equal(t, want.RefreshTokenLifetime, got.RefreshTokenLifetime)
	assert.Equal(t, want.TokenEndpointAuthMethod, got.TokenEndpointAuthMethod)
	assert.Equal(t, want.Introspect, got.Introspect, "Introspect")
	assertStrings(t, want.PostLogoutRedirectURIs, got.PostLogoutRedirectURIs, "PostLogoutRedirectURIs")
	assert.Equal(t, want.SubjectType, got.SubjectType, "SubjectType")
	assert.Equal(t, want.SectorIdentifier, got.SectorIdentifier, "SectorIdentifier")
	assert.Equal(t, want.IDTokenSignedResponseAlg, got.IDTokenSignedResponseAlg, "IDTokenSignedResponseAlg")
	assert.Equal(t, want.JWKS, got.JWKS, "JWKS")
	assert.Equal(t, want.JWKSURI, got.JWKSURI, "JWKSURI")
	assert.Equal(t, want.TokenEndpointAuthSigningAlg, got.TokenEndpointAuthSigningAlg, "TokenEndpointAuthSigningAlg")
	assert.Equal(t, want.RequirePushedAuthorizationRequests, got.RequirePushedAuthorizationRequests,
		"RequirePushedAuthorizationRequests")
	assert.Equal(t, want.DPoPBoundAccessTokens, got.DPoPBoundAccessTokens, "DPoPBoundAccessTokens")
	assertExtra(t, want.Extra, got.Extra, "Extra")
}

// testClients checks [oauth2server.Model.GetClient], which every model has.
func testClients(t *testing.T, newSetup func(t *testing.T) Setup) {
	ctx := context.Background()

	t.Run("ok, client round trip", func(t *testing.T) {
		s := newSetup(t)
		want := fullClient()
		require.NoError(t, s.AddClient(ctx, want))
		got, err := s.Model.GetClient(ctx, want.ID)
		require.NoError(t, err)
		assertClient(t, want, got)
	})

	t.Run("ok, public client round trip", func(t *testing.T) {
		s := newSetup(t)
		want := &oauth2server.Client{ID: random("public-"), RedirectURIs: []string{"http://127.0.0.1/cb"},
			Grants: []string{oauth2server.GrantAuthorizationCode}, TokenEndpointAuthMethod: oauth2server.AuthMethodNone}
		require.NoError(t, s.AddClient(ctx, want))
		got, err := s.Model.GetClient(ctx, want.ID)
		require.NoError(t, err)
		assertClient(t, want, got)
		assert.True(t, got.IsPublic())
	})

	t.Run("ok, unknown client is nil", func(t *testing.T) {
		s := newSetup(t)
		require.NoError(t, s.AddClient(ctx, fullClient()))
		got, err := s.Model.GetClient(ctx, "no-such-client")
		require.NoError(t, err)
		assert.Nil(t, got)
	})

	t.Run("ok, changing a returned client does not change the store", func(t *testing.T) {
		s := newSetup(t)
		want := fullClient()
		require.NoError(t, s.AddClient(ctx, want))
		got, err := s.Model.GetClient(ctx, want.ID)
		require.NoError(t, err)
		require.NotNil(t, got)
		got.SecretHash = "changed"
		again, err := s.Model.GetClient(ctx, want.ID)
		require.NoError(t, err)
		assert.Equal(t, want.SecretHash, again.SecretHash)
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		s := newSetup(t)
		c := fullClient()
		require.NoError(t, s.AddClient(ctx, c))
		got, err := s.Model.GetClient(cancelled(), c.ID)
		assert.Error(t, err)
		assert.Nil(t, got)
	})
}
