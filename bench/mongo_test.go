package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/mongomodel"
)

// BenchmarkMongoToken measures the client_credentials token endpoint on the
// MongoDB model, against the server at MONGODB_URI (make bench starts
// tools/mongotest, an embedded FerretDB on SQLite, unless MONGODB_URI is
// set). Beside time and allocations it reports roundtrips/op: the commands
// the driver sends per request, counted with an event.CommandMonitor.
func BenchmarkMongoToken(b *testing.B) {
	b.Run("grant=client_credentials/impl=oauth2server", func(b *testing.B) {
		uri := os.Getenv("MONGODB_URI")
		if uri == "" {
			b.Skip("MONGODB_URI is not set: run make bench (it starts tools/mongotest) or point it at a MongoDB server")
		}
		var commands atomic.Int64
		monitor := &event.CommandMonitor{
			Started: func(context.Context, *event.CommandStartedEvent) { commands.Add(1) },
		}
		client, err := mongo.Connect(options.Client().ApplyURI(uri).
			SetServerSelectionTimeout(10 * time.Second).SetMonitor(monitor))
		if err != nil {
			b.Fatal(err)
		}
		var suffix [6]byte
		_, _ = rand.Read(suffix[:])
		db := client.Database("oauth2bench_" + hex.EncodeToString(suffix[:]))
		b.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = db.Drop(ctx)
			_ = client.Disconnect(ctx)
		})
		ctx := context.Background()
		m := mongomodel.New(db, mongomodel.Options{})
		if err := m.EnsureIndexes(ctx); err != nil {
			b.Fatal(err)
		}
		err = m.AddClient(ctx, &oauth2server.Client{
			ID:         clientID,
			SecretHash: oauth2server.HashSecret(clientSecret),
			Grants:     []string{oauth2server.GrantClientCredentials},
			Scopes:     []string{scope},
		})
		if err != nil {
			b.Fatal(err)
		}
		h := mountOurs(b, m, nil, oauth2server.Options{AccessTokenLifetime: accessLifetime}).handler()
		tmpl := requestTemplate(http.MethodPost, "/token")
		serve(b, h, newRequest(tmpl, ccForm)) // warm the connection pool
		commands.Store(0)
		measure(b, func(int) {
			serve(b, h, newRequest(tmpl, ccForm))
		})
		b.ReportMetric(float64(commands.Load())/float64(b.N), "roundtrips/op")
	})
}
