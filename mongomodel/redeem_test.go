package mongomodel_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/mongomodel"
)

// A redemption is one ordered insert of the code's claim, the token and
// the family document. When it stops at the token (here a duplicate _id,
// as a fault would), the claim before it is stored: the code is spent
// without a token, which fails safe, and never the other way round.
func TestRedemptionStoppedAtTheTokenLeavesTheCodeSpent(t *testing.T) {
	client := connect(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{})
	exp := time.Now().Add(time.Minute)
	code := &oauth2server.AuthorizationCode{Code: "stopped", ExpiresAt: exp, ClientID: "c1", UserID: "u1", GrantID: "g1"}
	require.NoError(t, m.SaveAuthorizationCode(ctx, code, nil, nil))
	tok := &oauth2server.Token{AccessToken: "taken", AccessTokenExpiresAt: exp, ClientID: "c1", UserID: "u1", GrantID: "g1"}
	require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: tok.AccessToken, AccessTokenExpiresAt: exp,
		ClientID: "c1"}, nil, nil))

	ok, err := m.RedeemAuthorizationCode(ctx, code, tok, nil, nil)
	require.ErrorIs(t, err, mongomodel.ErrDuplicate)
	assert.False(t, ok)
	n, err := db.Collection("oauth2_tokens").CountDocuments(ctx, bson.D{{Key: "_id", Value: "f:g1"}})
	require.NoError(t, err)
	assert.Zero(t, n, "nothing after the token")

	retry := &oauth2server.Token{AccessToken: "retry", AccessTokenExpiresAt: exp, ClientID: "c1", UserID: "u1", GrantID: "g1"}
	ok, err = m.RedeemAuthorizationCode(ctx, code, retry, nil, nil)
	require.NoError(t, err)
	assert.False(t, ok, "the code is spent")
	got, err := m.GetAccessToken(ctx, retry.AccessToken)
	require.NoError(t, err)
	assert.Nil(t, got)
}

// The claim of a redeemed code lives in tokens and outlives the code: it
// is the only record of the redemption (the code's document is not
// marked), so it must not expire while the code could still be presented.
func TestCodeClaimOutlivesTheCode(t *testing.T) {
	client := connect(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{})
	exp := time.Now().Add(3 * time.Hour) // longer than any claim lives on its own
	code := &oauth2server.AuthorizationCode{Code: "long", ExpiresAt: exp, ClientID: "c1", UserID: "u1", GrantID: "g1"}
	require.NoError(t, m.SaveAuthorizationCode(ctx, code, nil, nil))
	ok, err := m.RedeemAuthorizationCode(ctx, code, &oauth2server.Token{AccessToken: "at", AccessTokenExpiresAt: time.Now().Add(time.Minute),
		ClientID: "c1", UserID: "u1", GrantID: "g1"}, nil, nil)
	require.NoError(t, err)
	require.True(t, ok)

	raw, err := db.Collection("oauth2_tokens").FindOne(ctx,
		bson.D{{Key: "_id", Value: "c:" + oauth2server.TokenDigest(code.Code)}}).Raw()
	require.NoError(t, err)
	assert.True(t, raw.Lookup("expiresAt").Time().After(exp), "the claim outlives the code")
	assert.Equal(t, "c1", raw.Lookup("clientId").StringValue(), "ListGrants finds it by client")
	assert.Equal(t, "u1", raw.Lookup("userId").StringValue(), "and by user")
	assert.True(t, raw.Lookup("revoked").Boolean(), "never a live token")

	// A replay finds the code unmarked but spent.
	got, err := m.GetAuthorizationCode(ctx, code.Code)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.False(t, got.Revoked, "not marked in the same round trip")
	ok, err = m.RedeemAuthorizationCode(ctx, code, &oauth2server.Token{AccessToken: "at2", AccessTokenExpiresAt: time.Now().Add(time.Minute),
		ClientID: "c1", UserID: "u1", GrantID: "g1"}, nil, nil)
	require.NoError(t, err)
	assert.False(t, ok, "the replay")
}
