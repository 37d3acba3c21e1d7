package assertions_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/client/rs"
	"github.com/zitadel/oidc/v3/pkg/client/tokenexchange"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/echo-oauth2/oauth2server"
)

// zitadel's token exchange client exchanges a user's access token, as
// an impersonation with Basic client credentials and as a delegation with
// a private_key_jwt client and an actor token; zitadel's resource server
// client introspects the result, act included (R-152 … R-159).
func TestTokenExchangeWithZitadel(t *testing.T) {
	ctx := context.Background()
	// zitadel's NewTokenExchangerJWTProfile signs assertions valid for an
	// hour; this server accepts that only with a longer MaxLifetime.
	s := newServer(t, func(o *oauth2server.Options) { o.Assertions.MaxLifetime = time.Hour })
	key := newKeyPair(t, "EC", "orders-1")
	xg := []string{oauth2server.GrantTokenExchange}
	s.addClient(t, &oauth2server.Client{ID: "web", SecretHash: oauth2server.HashSecret("web-secret"),
		Grants: []string{oauth2server.GrantAuthorizationCode}, Scopes: []string{"read", "write"}})
	s.addClient(t, &oauth2server.Client{ID: "orders", SecretHash: oauth2server.HashSecret("orders-secret"), Grants: xg,
		Scopes: []string{"read", "write"}, Introspect: true})
	s.addClient(t, &oauth2server.Client{ID: "orders-pk", TokenEndpointAuthMethod: oauth2server.AuthMethodPrivateKeyJWT,
		JWKS: key.jwks, Grants: xg, Scopes: []string{"read"}})
	s.addClient(t, &oauth2server.Client{ID: "billing-bot", SecretHash: oauth2server.HashSecret("bot-secret"),
		Grants: []string{oauth2server.GrantClientCredentials}, Scopes: []string{"read"}})
	for _, id := range []string{"orders", "orders-pk"} {
		require.NoError(t, s.model.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: id,
			Audiences: []string{"https://invoices.example"}, Impersonation: true, Delegation: true}))
	}
	subject := s.userToken(t, "web", "u-alice", "read", "write")
	inspector, err := rs.NewResourceServerClientCredentials(ctx, s.issuer, "orders", "orders-secret",
		rs.WithStaticEndpoints(s.tokenURL, s.introspectURL))
	require.NoError(t, err)

	t.Run("ok, impersonation with Basic credentials", func(t *testing.T) {
		te, err := tokenexchange.NewTokenExchangerClientCredentials(ctx, s.issuer, "orders", "orders-secret",
			tokenexchange.WithStaticTokenEndpoint(s.issuer, s.tokenURL))
		require.NoError(t, err)
		resp, err := tokenexchange.ExchangeToken(ctx, te, subject, oidc.AccessTokenType, "", "", nil,
			[]string{"https://invoices.example"}, []string{"read"}, oidc.AccessTokenType)
		require.NoError(t, err)
		assert.Equal(t, oidc.AccessTokenType, resp.IssuedTokenType)
		assert.Equal(t, "Bearer", resp.TokenType)
		assert.Equal(t, oidc.SpaceDelimitedArray{"read"}, resp.Scopes)

		in, err := rs.Introspect[*oidc.IntrospectionResponse](ctx, inspector, resp.AccessToken)
		require.NoError(t, err)
		assert.True(t, in.Active)
		assert.Equal(t, "u-alice", in.Subject)
		assert.Equal(t, oidc.Audience{"https://invoices.example"}, in.Audience)
		assert.Nil(t, in.Actor)
	})

	t.Run("ok, delegation with private_key_jwt and an actor token", func(t *testing.T) {
		signer, err := client.NewSignerFromPrivateKeyByte(key.pem, key.kid)
		require.NoError(t, err)
		te, err := tokenexchange.NewTokenExchangerJWTProfile(ctx, s.issuer, "orders-pk", signer,
			tokenexchange.WithStaticTokenEndpoint(s.issuer, s.tokenURL))
		require.NoError(t, err)
		actor := s.userToken(t, "billing-bot", "")
		resp, err := tokenexchange.ExchangeToken(ctx, te, subject, oidc.AccessTokenType, actor, oidc.AccessTokenType,
			[]string{"https://invoices.example"}, nil, []string{"read"}, "")
		require.NoError(t, err)
		assert.Equal(t, oidc.AccessTokenType, resp.IssuedTokenType)

		in, err := rs.Introspect[*oidc.IntrospectionResponse](ctx, inspector, resp.AccessToken)
		require.NoError(t, err)
		assert.True(t, in.Active)
		require.NotNil(t, in.Actor)
		assert.Equal(t, "billing-bot", in.Actor.Subject)
		assert.Equal(t, "billing-bot", in.Actor.Claims["client_id"])
	})

	t.Run("nok, two audiences", func(t *testing.T) {
		te, err := tokenexchange.NewTokenExchangerClientCredentials(ctx, s.issuer, "orders", "orders-secret",
			tokenexchange.WithStaticTokenEndpoint(s.issuer, s.tokenURL))
		require.NoError(t, err)
		_, err = tokenexchange.ExchangeToken(ctx, te, subject, oidc.AccessTokenType, "", "", nil,
			[]string{"https://invoices.example", "https://ledger.example"}, nil, "")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "invalid_target")
	})
}

// zitadel's NewTokenExchangerJWTProfile signs assertions valid for an
// hour, which the default 5-minute Assertions.MaxLifetime refuses.
func TestZitadelHourLongAssertionRefusedByDefault(t *testing.T) {
	ctx := context.Background()
	s := newServer(t, nil)
	key := newKeyPair(t, "EC", "k")
	s.addClient(t, &oauth2server.Client{ID: "orders-pk", TokenEndpointAuthMethod: oauth2server.AuthMethodPrivateKeyJWT,
		JWKS: key.jwks, Grants: []string{oauth2server.GrantTokenExchange}, Scopes: []string{"read"}})
	require.NoError(t, s.model.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: "orders-pk", Impersonation: true}))
	signer, err := client.NewSignerFromPrivateKeyByte(key.pem, key.kid)
	require.NoError(t, err)
	te, err := tokenexchange.NewTokenExchangerJWTProfile(ctx, s.issuer, "orders-pk", signer,
		tokenexchange.WithStaticTokenEndpoint(s.issuer, s.tokenURL))
	require.NoError(t, err)
	_, err = tokenexchange.ExchangeToken(ctx, te, s.userToken(t, "orders-pk", "u-alice", "read"), oidc.AccessTokenType,
		"", "", nil, nil, nil, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid_client")
}
