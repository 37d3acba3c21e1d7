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

// a pushed request is stored under the digest of its
// request_uri, and consuming it inserts a claim, which alone decides: a
// request whose claim exists reads as consumed even if its document was
// not deleted.
func TestPushedRequestsStorage(t *testing.T) {
	client := connect(t)
	ctx := context.Background()
	now := time.Now()
	m, db := newModel(t, client, mongomodel.Options{Now: func() time.Time { return now }})
	req := &oauth2server.PushedAuthorizationRequest{RequestURI: oauth2server.RequestURIPrefix + "plain-EEEE",
		ClientID: "c1", Parameters: "client_id=c1&state=s", IssuedAt: now, ExpiresAt: now.Add(time.Minute)}
	require.NoError(t, m.SavePushedAuthorizationRequest(ctx, req))
	id := oauth2server.TokenDigest(req.RequestURI)
	raw, err := db.Collection("oauth2_pushed_requests").FindOne(ctx, bson.D{}).Raw()
	require.NoError(t, err)
	assert.Equal(t, id, raw.Lookup("_id").StringValue())
	assert.NotContains(t, raw.String(), "plain", "no request_uri in the document")

	t.Run("ok, consuming inserts a claim and deletes the request", func(t *testing.T) {
		ok, err := m.ConsumePushedAuthorizationRequest(ctx, req.RequestURI)
		require.NoError(t, err)
		require.True(t, ok)
		n, err := db.Collection("oauth2_pushed_requests").CountDocuments(ctx, bson.D{})
		require.NoError(t, err)
		assert.Zero(t, n)
		raw, err := db.Collection("oauth2_claims").FindOne(ctx, bson.D{{Key: "_id", Value: "p:" + id}}).Raw()
		require.NoError(t, err)
		assert.True(t, raw.Lookup("expiresAt").Time().After(req.ExpiresAt), "the claim outlives the request")
	})

	t.Run("ok, a claim without deletion reads as consumed", func(t *testing.T) {
		other := *req
		other.RequestURI += "-2"
		require.NoError(t, m.SavePushedAuthorizationRequest(ctx, &other))
		_, err := db.Collection("oauth2_claims").InsertOne(ctx, bson.D{
			{Key: "_id", Value: "p:" + oauth2server.TokenDigest(other.RequestURI)}, {Key: "expiresAt", Value: now.Add(time.Hour)}})
		require.NoError(t, err)
		got, err := m.GetPushedAuthorizationRequest(ctx, other.RequestURI)
		require.NoError(t, err)
		assert.Nil(t, got)
		ok, err := m.ConsumePushedAuthorizationRequest(ctx, other.RequestURI)
		require.NoError(t, err)
		assert.False(t, ok)
	})

	t.Run("ok, DeleteExpired removes expired pushed requests", func(t *testing.T) {
		old := *req
		old.RequestURI += "-old"
		old.ExpiresAt = now.Add(-time.Second)
		require.NoError(t, m.SavePushedAuthorizationRequest(ctx, &old))
		_, err := m.DeleteExpired(ctx)
		require.NoError(t, err)
		n, err := db.Collection("oauth2_pushed_requests").CountDocuments(ctx,
			bson.D{{Key: "_id", Value: oauth2server.TokenDigest(old.RequestURI)}})
		require.NoError(t, err)
		assert.Zero(t, n)
	})
}
