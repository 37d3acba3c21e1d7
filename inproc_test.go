package oauth2server_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
)

// IntrospectToken answers from Go code what the introspection endpoint
// answers, as the server itself: every token is visible.
func TestIntrospectTokenInCode(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t)
	access, refresh := e.codeFlow(confID, confSecret, "u-1")

	got, err := e.srv.IntrospectToken(ctx, access, "")
	require.NoError(t, err)
	assert.True(t, got.Active)
	assert.Equal(t, confID, got.ClientID)
	assert.Equal(t, "u-1", got.Subject)

	got, err = e.srv.IntrospectToken(ctx, refresh, oauth2server.HintRefreshToken)
	require.NoError(t, err)
	assert.True(t, got.Active, "a refresh token of any client is visible to the server itself")
	assert.Equal(t, confID, got.ClientID)

	got, err = e.srv.IntrospectToken(ctx, "unknown", "")
	require.NoError(t, err)
	assert.Equal(t, &oauth2server.IntrospectionResponse{Active: false}, got)

	_, err = e.srv.IntrospectToken(ctx, "", "")
	assert.Equal(t, "invalid_request", oautherrors.From(err).Code)
}

// RevokeTokenFor revokes on behalf of a client with the rules of the
// revocation endpoint.
func TestRevokeTokenForInCode(t *testing.T) {
	ctx := context.Background()
	e := newTestEnv(t)
	access, refresh := e.codeFlow(confID, confSecret, "u-1")

	err := e.srv.RevokeTokenFor(ctx, otherID, refresh, "")
	assert.Equal(t, "invalid_grant", oautherrors.From(err).Code, "another client's token")
	require.NoError(t, e.valid(access), "left untouched")

	err = e.srv.RevokeTokenFor(ctx, "nobody", refresh, "")
	assert.Equal(t, "invalid_client", oautherrors.From(err).Code)

	assert.NoError(t, e.srv.RevokeTokenFor(ctx, confID, "unknown", ""), "an unknown token is success")
	_, err = e.srv.IntrospectToken(ctx, refresh, "")
	require.NoError(t, err)

	require.NoError(t, e.srv.RevokeTokenFor(ctx, confID, refresh, oauth2server.HintRefreshToken))
	assert.Error(t, e.valid(access), "the family's access token is revoked too")
	got, err := e.srv.IntrospectToken(ctx, refresh, "")
	require.NoError(t, err)
	assert.False(t, got.Active)

	assert.Equal(t, "invalid_request", oautherrors.From(e.srv.RevokeTokenFor(ctx, confID, "", "")).Code)
}
