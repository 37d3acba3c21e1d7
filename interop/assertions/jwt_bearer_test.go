package assertions_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/echo-oauth2/oauth2server"
)

// golang.org/x/oauth2/jwt asks for tokens with the JWT bearer grant (RFC
// 7523 §2.1) with an RS256 assertion of a trusted issuer; oauth2server
// issues one for the user the issuer's subject stands for. The
// package sends no client credentials: the client adds them through the
// HTTP client of the context, and its assertion carries no jti, so it is
// spent by its digest.
func TestJWTBearerWithXOAuth2(t *testing.T) {
	s := newServer(t, nil)
	ctx := context.Background()
	idp := newKeyPair(t, "RSA", "idp-2026")
	const issuer = "https://idp.example"
	require.NoError(t, s.model.AddTrustedIssuer(ctx, &oauth2server.TrustedIssuer{Issuer: issuer, JWKS: idp.jwks,
		Scopes: []string{"read"}}))
	require.NoError(t, s.model.AddUser(ctx, &oauth2server.User{ID: "u-alice", Username: "alice"}, oauth2server.HashSecret("pw")))
	require.NoError(t, s.model.MapIssuerSubject(ctx, issuer, "alice@idp", "alice"))
	s.addClient(t, &oauth2server.Client{ID: "batch", SecretHash: oauth2server.HashSecret("batch-secret"),
		Grants: []string{oauth2server.GrantJWTBearer}, Scopes: []string{"read", "write"}})

	conf := &jwt.Config{Email: issuer, Subject: "alice@idp", PrivateKey: idp.pem, PrivateKeyID: idp.kid,
		TokenURL: s.tokenURL, Expires: 2 * time.Minute}
	hc := &http.Client{Transport: basicAuth{"batch", "batch-secret"}}
	tok, err := conf.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc)).Token()
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.TokenType)
	stored := s.stored(t, tok.AccessToken)
	assert.Equal(t, "u-alice", stored.UserID)
	assert.Equal(t, "batch", stored.ClientID)
	assert.Equal(t, []string{"read"}, stored.Scope, "the client's scope within the issuer's")

	t.Run("nok, a subject nobody here is", func(t *testing.T) {
		c := *conf
		c.Subject = "mallory@idp"
		_, err := c.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc)).Token()
		var re *oauth2.RetrieveError
		require.ErrorAs(t, err, &re)
		assert.Contains(t, string(re.Body), `"error":"invalid_grant"`)
	})
	t.Run("nok, the default one-hour assertion is longer than the 5-minute maximum", func(t *testing.T) {
		c := *conf
		c.Expires = 0
		_, err := c.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc)).Token()
		var re *oauth2.RetrieveError
		require.ErrorAs(t, err, &re)
		assert.Contains(t, string(re.Body), `"error":"invalid_grant"`)
	})
	t.Run("nok, without client credentials", func(t *testing.T) {
		_, err := conf.TokenSource(ctx).Token()
		var re *oauth2.RetrieveError
		require.ErrorAs(t, err, &re)
		assert.Contains(t, string(re.Body), `"error":"invalid_client"`)
	})
}
