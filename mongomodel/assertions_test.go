package mongomodel_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/mongomodel"
)

// client_secret_jwt secrets are stored sealed, never in clear, and
// the sealing keys can be rotated.
func TestClientSecretsSealed(t *testing.T) {
	client := connect(t)
	ctx := context.Background()
	oldKey := []byte("0123456789abcdef0123456789abcdef")
	newKey := []byte("fedcba9876543210fedcba9876543210")
	secret := []byte("a client secret of at least thirty-two bytes")
	c := &oauth2server.Client{ID: "cs", TokenEndpointAuthMethod: oauth2server.AuthMethodClientSecretJWT}

	t.Run("ok, the document holds no clear secret; a rotated key list still opens it", func(t *testing.T) {
		m, db := newModel(t, client, mongomodel.Options{ClientSecretKeys: [][]byte{oldKey}})
		require.NoError(t, m.AddClient(ctx, c))
		require.NoError(t, m.SetClientSecret(ctx, c.ID, secret))
		raw, err := db.Collection("oauth2_client_secrets").FindOne(ctx, bson.D{{Key: "_id", Value: c.ID}}).Raw()
		require.NoError(t, err)
		assert.NotContains(t, string(raw), string(secret))

		rotated := mongomodel.New(db, mongomodel.Options{ClientSecretKeys: [][]byte{newKey, oldKey}})
		got, err := rotated.GetClientSecret(ctx, c)
		require.NoError(t, err)
		assert.Equal(t, secret, got)
		require.NoError(t, rotated.SetClientSecret(ctx, c.ID, secret), "resealed under the new key")
		got, err = mongomodel.New(db, mongomodel.Options{ClientSecretKeys: [][]byte{newKey}}).GetClientSecret(ctx, c)
		require.NoError(t, err)
		assert.Equal(t, secret, got)
	})

	t.Run("nok, a key that did not seal it does not open it", func(t *testing.T) {
		m, db := newModel(t, client, mongomodel.Options{ClientSecretKeys: [][]byte{oldKey}})
		require.NoError(t, m.AddClient(ctx, c))
		require.NoError(t, m.SetClientSecret(ctx, c.ID, secret))
		got, err := mongomodel.New(db, mongomodel.Options{ClientSecretKeys: [][]byte{newKey}}).GetClientSecret(ctx, c)
		assert.Error(t, err)
		assert.Nil(t, got)
	})

	t.Run("nok, a sealed secret moved to another client does not open", func(t *testing.T) {
		m, db := newModel(t, client, mongomodel.Options{ClientSecretKeys: [][]byte{oldKey}})
		require.NoError(t, m.AddClient(ctx, c))
		require.NoError(t, m.SetClientSecret(ctx, c.ID, secret))
		coll := db.Collection("oauth2_client_secrets")
		var doc bson.M
		require.NoError(t, coll.FindOne(ctx, bson.D{{Key: "_id", Value: c.ID}}).Decode(&doc))
		doc["_id"] = "mallory"
		_, err := coll.InsertOne(ctx, doc)
		require.NoError(t, err)
		got, err := m.GetClientSecret(ctx, &oauth2server.Client{ID: "mallory"})
		assert.Error(t, err)
		assert.Nil(t, got)
	})

	t.Run("nok, without keys or with a short key nothing is stored", func(t *testing.T) {
		for _, keys := range [][][]byte{nil, {[]byte("short")}} {
			m, _ := newModel(t, client, mongomodel.Options{ClientSecretKeys: keys})
			require.NoError(t, m.AddClient(ctx, c))
			assert.Error(t, m.SetClientSecret(ctx, c.ID, secret))
		}
	})
}
