package modeltest

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
)

// testTokenExchange checks [oauth2server.TokenExchangeModel] as the models
// of this module implement it: a stored [oauth2server.ExchangePolicy] per
// client, and a Server exchanging its own access token through it.
func testTokenExchange(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.TokenExchangeModel](t, newSetup, "TokenExchangeModel")
	ctx := context.Background()
	setup := func(t *testing.T) (Setup, oauth2server.TokenExchangeModel, *oauth2server.Client) {
		s := newSetup(t)
		m := need[oauth2server.TokenExchangeModel](t, s, "TokenExchangeModel")
		if s.SetExchangePolicy == nil {
			s.skip(t, "Setup.SetExchangePolicy is nil")
		}
		c := fullClient()
		c.Grants = append(c.Grants, oauth2server.GrantTokenExchange)
		c.DPoPBoundAccessTokens = false // the Servers here have no DPoP
		require.NoError(t, s.AddClient(ctx, c))
		return s, m, c
	}
	// request is an impersonation by c of a token of this server.
	request := func(c *oauth2server.Client, target string) *oauth2server.TokenExchangeRequest {
		return &oauth2server.TokenExchangeRequest{Client: c, Target: target, RequestedTokenType: oauth2server.TokenTypeAccessToken,
			Subject: &oauth2server.ExchangedToken{Type: oauth2server.TokenTypeAccessToken, Subject: "u", UserID: "u",
				Scope: []string{"read", "write"}, ExpiresAt: time.Now().Add(time.Hour)}}
	}

	t.Run("ok, the client's rule decides", func(t *testing.T) {
		// the stored rule, not a default, allows the exchange.
		s, m, c := setup(t)
		require.NoError(t, s.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: c.ID,
			Audiences: []string{"https://rs.example"}, Impersonation: true, Scopes: []string{"read"}, RefreshTokens: true}))
		d, err := m.AuthorizeTokenExchange(ctx, request(c, "https://rs.example"))
		require.NoError(t, err)
		require.NotNil(t, d)
		assert.Equal(t, "https://rs.example", d.Audience)
		assert.Equal(t, []string{"read"}, d.Scope, "the subject's scope within the rule's")
		assert.True(t, d.RefreshToken)

		_, err = m.AuthorizeTokenExchange(ctx, request(c, "https://other.example"))
		assert.True(t, errors.Is(err, oautherrors.ErrInvalidTarget), "a target outside Audiences: %v", err)
	})

	t.Run("ok, without a rule, or with another client's, the answer is no", func(t *testing.T) {
		s, m, c := setup(t)
		d, err := m.AuthorizeTokenExchange(ctx, request(c, ""))
		require.NoError(t, err)
		assert.Nil(t, d)
		other := fullClient()
		require.NoError(t, s.AddClient(ctx, other))
		require.NoError(t, s.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: other.ID, Impersonation: true}))
		d, err = m.AuthorizeTokenExchange(ctx, request(c, ""))
		require.NoError(t, err)
		assert.Nil(t, d)
	})

	t.Run("ok, a second rule replaces the first", func(t *testing.T) {
		s, m, c := setup(t)
		require.NoError(t, s.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: c.ID, Impersonation: true}))
		require.NoError(t, s.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: c.ID, Delegation: true}))
		d, err := m.AuthorizeTokenExchange(ctx, request(c, ""))
		require.NoError(t, err)
		assert.Nil(t, d, "impersonation is no longer allowed")
	})

	t.Run("ok, nil and empty lists keep their meanings", func(t *testing.T) {
		// SubjectIssuers nil is this server's tokens, empty is none; Scopes
		// nil is no bound, empty allows nothing.
		s, m, c := setup(t)
		require.NoError(t, s.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: c.ID, Impersonation: true,
			SubjectIssuers: []string{}}))
		d, err := m.AuthorizeTokenExchange(ctx, request(c, ""))
		require.NoError(t, err)
		assert.Nil(t, d, "no issuer is allowed")

		require.NoError(t, s.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: c.ID, Impersonation: true, Scopes: []string{}}))
		d, err = m.AuthorizeTokenExchange(ctx, request(c, ""))
		require.NoError(t, err)
		require.NotNil(t, d, "this server's tokens are allowed")
		assert.NotNil(t, d.Scope)
		assert.Empty(t, d.Scope, "no scope is allowed")

		require.NoError(t, s.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: c.ID, Impersonation: true}))
		d, err = m.AuthorizeTokenExchange(ctx, request(c, ""))
		require.NoError(t, err)
		require.NotNil(t, d)
		assert.Nil(t, d.Scope, "no bound: the Server decides")
	})

	t.Run("nok, a rule for an unknown client is an error", func(t *testing.T) {
		s, _, _ := setup(t)
		assert.Error(t, s.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: random("ghost-"), Impersonation: true}))
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		s, m, c := setup(t)
		require.NoError(t, s.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: c.ID, Impersonation: true}))
		d, err := m.AuthorizeTokenExchange(cancelled(), request(c, ""))
		assert.Error(t, err)
		assert.Nil(t, d)
	})

	t.Run("ok, a Server exchanges its own access token into the subject's family", func(t *testing.T) {
		// the new token is for the target, within the
		// subject's scope and lifetime, in its grant family.
		s, _, c := setup(t)
		at := need[oauth2server.AccessTokenModel](t, s, "AccessTokenModel")
		c.TokenEndpointAuthMethod = ""
		require.NoError(t, s.SetExchangePolicy(ctx, &oauth2server.ExchangePolicy{ClientID: c.ID,
			Audiences: []string{"https://rs.example"}, Impersonation: true}))
		srv, err := oauth2server.New(s.Model, oauth2server.Options{Issuer: "https://as.example", Audience: "https://api.example"})
		require.NoError(t, err)
		subject := accessOnlyToken()
		subject.UserID, subject.Scope = random("user-"), []string{"read", "write"}
		subject.AccessTokenExpiresAt = time.Now().Add(3 * time.Minute) // before the client's 5-minute lifetime
		require.NoError(t, s.Model.SaveToken(ctx, subject, c, &oauth2server.User{ID: subject.UserID}))

		e := &tokenEndpoint{srv: srv, client: c, secret: "s3cret"}
		status, body := e.post(t, url.Values{"grant_type": {oauth2server.GrantTokenExchange},
			"subject_token": {subject.AccessToken}, "subject_token_type": {oauth2server.TokenTypeAccessToken},
			"audience": {"https://rs.example"}, "scope": {"read"}})
		require.Equal(t, http.StatusOK, status, body)
		assert.Equal(t, oauth2server.TokenTypeAccessToken, body["issued_token_type"])
		tok, err := at.GetAccessToken(ctx, body["access_token"].(string))
		require.NoError(t, err)
		require.NotNil(t, tok)
		assert.Equal(t, "https://rs.example", tok.Audience)
		assert.Equal(t, subject.UserID, tok.UserID)
		assert.Equal(t, subject.GrantID, tok.GrantID)
		assert.Equal(t, []string{"read"}, tok.Scope)
		assertTime(t, subject.AccessTokenExpiresAt, tok.AccessTokenExpiresAt, "AccessTokenExpiresAt")
	})
}
