package mongomodel_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server/modeltest"
	"github.com/echo-oauth2/oauth2server/mongomodel"
)

// connect returns a client of the server at MONGODB_URI. Without it the
// test is skipped, or fails when CI=true: CI must never pass by skipping.
func connect(t *testing.T) *mongo.Client {
	t.Helper()
	return connectWith(t, options.Client())
}

// commands records the commands a client sends, for the tests that count
// round trips.
type commands struct {
	mu    sync.Mutex
	names []string
}

// take returns the names of the commands sent since the last take.
func (c *commands) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := c.names
	c.names = nil
	return names
}

// connectCounting is connect with every command recorded.
func connectCounting(t *testing.T) (*mongo.Client, *commands) {
	t.Helper()
	cmds := &commands{}
	client := connectWith(t, options.Client().SetMonitor(&event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			cmds.mu.Lock()
			cmds.names = append(cmds.names, e.CommandName)
			cmds.mu.Unlock()
		},
	}))
	cmds.take()
	return client, cmds
}

func connectWith(t *testing.T, opts *options.ClientOptions) *mongo.Client {
	t.Helper()
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("MONGODB_URI is not set and CI=true: the MongoDB tests must run in CI (make test starts a server)")
		}
		t.Skip("MONGODB_URI is not set; run make test to start a server")
	}
	client, err := mongo.Connect(opts.ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, client.Ping(ctx, nil), "MongoDB at MONGODB_URI does not answer")
	return client
}

// freshDB returns a new, empty database that is dropped when t ends.
func freshDB(t *testing.T, client *mongo.Client) *mongo.Database {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	db := client.Database("oauth2test_" + hex.EncodeToString(b[:]))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
	})
	return db
}

// newModel returns a model with its indexes on a fresh database.
func newModel(t *testing.T, client *mongo.Client, opts mongomodel.Options) (*mongomodel.Model, *mongo.Database) {
	t.Helper()
	db := freshDB(t, client)
	m := mongomodel.New(db, opts)
	require.NoError(t, m.EnsureIndexes(context.Background()))
	return m, db
}

func TestConformance(t *testing.T) {
	client := connect(t)
	modeltest.Run(t, func(t *testing.T) modeltest.Setup {
		m, _ := newModel(t, client, mongomodel.Options{ClientSecretKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}})
		return modeltest.Setup{Model: m, AddClient: m.AddClient, AddUser: m.AddUser, SetClientUser: m.SetClientUser,
			SetUserClaims: m.SetUserClaims, SetClientSecret: m.SetClientSecret, AddTrustedIssuer: m.AddTrustedIssuer,
			MapIssuerSubject: m.MapIssuerSubject, SetExchangePolicy: m.SetExchangePolicy,
			DeleteExpired: func(ctx context.Context) error { _, err := m.DeleteExpired(ctx); return err }}
	})
}
