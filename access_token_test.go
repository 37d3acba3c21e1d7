package oauth2server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// An access token longer than any the server issues is refused before a
// lookup.
func TestValidateAccessTokenLengthCap(t *testing.T) {
	var m *countingModel
	e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
		m = &countingModel{Model: mm}
		return m
	}))
	_, err := e.srv.ValidateAccessToken(context.Background(), strings.Repeat("a", 65<<10))
	assert.Equal(t, "invalid_token", oautherrors.From(err).Code)
	assert.Zero(t, m.getAccess.Load(), "not looked up")
	_, err = e.srv.ValidateAccessToken(context.Background(), strings.Repeat("a", 64<<10))
	assert.Equal(t, "invalid_token", oautherrors.From(err).Code)
	assert.EqualValues(t, 1, m.getAccess.Load(), "looked up at the cap")
}

// ValidateAccessToken for opaque tokens: precise invalid_token
// descriptions.
func TestValidateAccessTokenOpaque(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	at := e.clientCredentials(confID, confSecret)
	revoked := e.clientCredentials(otherID, otherSecret)
	assertRevoked200(t, e.revoke(revoked, "", otherID, otherSecret))
	expired := e.clientCredentials(confID, confSecret)

	tok, err := e.srv.ValidateAccessToken(context.Background(), at)
	require.NoError(t, err)
	assert.Equal(t, confID, tok.ClientID)

	e.clock.Advance(time.Hour)
	for _, tc := range []struct{ name, token, desc string }{
		{"nok, missing", "", "The access token is missing."},
		{"nok, unknown", "nope", "The access token is unknown."},
		{"nok, revoked", revoked, "The access token was revoked."},
		{"nok, expired", expired, "The access token has expired."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.valid(tc.token)
			require.ErrorIs(t, err, oautherrors.ErrInvalidToken)
			assert.Equal(t, tc.desc, oautherrors.From(err).Description)
		})
	}
	t.Run("nok, no AccessTokenModel", func(t *testing.T) {
		// An opaque-token server cannot check tokens without the model:
		// it fails closed with server_error, naming the interface in logs.
		// Only possible for a server that issues no tokens: New refuses
		// the others.
		e := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return minimalModel{m} }),
			withOptions(func(o *oauth2server.Options) { o.Grants = []string{} }))
		assert.False(t, e.srv.CanVerifyAccessTokens())
		assert.True(t, oautherrors.IsServerError(e.valid("x")))
	})
	t.Run("nok, model fault", func(t *testing.T) {
		e := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return &faulty{Model: m, failAccess: true} }))
		assert.True(t, oautherrors.IsServerError(e.valid("x")))
	})
}

// ValidateAccessToken needs a token and, for opaque tokens, the model's
// AccessTokenModel.
func TestValidateAccessTokenWithoutModel(t *testing.T) {
	t.Parallel()
	_, err := oauth2server.New(minimalModel{memorymodel.New()}, oauth2server.Options{})
	require.ErrorContains(t, err, "opaque access tokens need AccessTokenModel", "New refuses a server whose tokens nothing can verify")
	srv, err := oauth2server.New(minimalModel{memorymodel.New()}, oauth2server.Options{Grants: []string{}})
	require.NoError(t, err, "a server that issues no tokens")
	_, err = srv.ValidateAccessToken(context.Background(), "")
	assert.ErrorIs(t, err, oautherrors.ErrInvalidToken)
	_, err = srv.ValidateAccessToken(context.Background(), "x")
	assert.True(t, oautherrors.IsServerError(err))
	assert.ErrorContains(t, err, "AccessTokenModel")
}
