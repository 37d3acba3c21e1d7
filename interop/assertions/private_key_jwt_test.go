package assertions_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/echo-oauth2/oauth2server"
)

// tokenEndpoint is zitadel's client.TokenEndpointCaller for a server.
type tokenEndpoint struct{ url string }

func (e tokenEndpoint) TokenEndpoint() string    { return e.url }
func (e tokenEndpoint) HttpClient() *http.Client { return http.DefaultClient }

// zitadel's client signs private_key_jwt assertions (iss = sub = client
// ID, aud, exp, iat, jti) that oauth2server accepts, with RSA, EC and
// Ed25519 keys, once each.
func TestPrivateKeyJWTWithZitadel(t *testing.T) {
	s := newServer(t, nil)
	ctx := context.Background()
	for _, kind := range []string{"RSA", "EC", "OKP"} {
		t.Run("ok, "+kind, func(t *testing.T) {
			key := newKeyPair(t, kind, "key-"+kind)
			clientID := "svc-" + kind
			s.addClient(t, &oauth2server.Client{ID: clientID, TokenEndpointAuthMethod: oauth2server.AuthMethodPrivateKeyJWT,
				JWKS: key.jwks, Grants: []string{oauth2server.GrantClientCredentials}, Scopes: []string{"read"}})
			signer, err := client.NewSignerFromPrivateKeyByte(key.pem, key.kid)
			require.NoError(t, err)
			assertion, err := client.SignedJWTProfileAssertion(clientID, []string{s.issuer}, 2*time.Minute, signer)
			require.NoError(t, err)
			request := oidc.ClientCredentialsRequest{GrantType: oidc.GrantTypeClientCredentials, Scope: []string{"read"}}

			tok, err := client.CallTokenEndpointWithAuthFn(ctx, request, client.ClientAssertionFormAuthorization(assertion),
				tokenEndpoint{s.tokenURL})
			require.NoError(t, err)
			assert.Equal(t, "Bearer", tok.TokenType)
			assert.Equal(t, clientID, s.stored(t, tok.AccessToken).ClientID)

			_, err = client.CallTokenEndpointWithAuthFn(ctx, request, client.ClientAssertionFormAuthorization(assertion),
				tokenEndpoint{s.tokenURL})
			require.Error(t, err, "the same assertion twice")
			assert.Contains(t, err.Error(), "invalid_client")
		})
	}

	t.Run("nok, an assertion for another server", func(t *testing.T) {
		key := newKeyPair(t, "EC", "k")
		s.addClient(t, &oauth2server.Client{ID: "svc-other-aud", TokenEndpointAuthMethod: oauth2server.AuthMethodPrivateKeyJWT,
			JWKS: key.jwks, Grants: []string{oauth2server.GrantClientCredentials}, Scopes: []string{"read"}})
		signer, err := client.NewSignerFromPrivateKeyByte(key.pem, key.kid)
		require.NoError(t, err)
		assertion, err := client.SignedJWTProfileAssertion("svc-other-aud", []string{"https://other.example"}, time.Minute, signer)
		require.NoError(t, err)
		_, err = client.CallTokenEndpointWithAuthFn(ctx, oidc.ClientCredentialsRequest{GrantType: oidc.GrantTypeClientCredentials},
			client.ClientAssertionFormAuthorization(assertion), tokenEndpoint{s.tokenURL})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "invalid_client")
	})
}
