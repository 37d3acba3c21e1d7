package mongomodel_test

import (
	"context"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/mongomodel"
)

// commandLog records the commands a client sends.
type commandLog struct {
	mu   sync.Mutex
	cmds []command
}

type command struct {
	name string
	body bson.Raw
}

func (l *commandLog) started(_ context.Context, e *event.CommandStartedEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cmds = append(l.cmds, command{e.CommandName, append(bson.Raw(nil), e.Command...)})
}

// take returns the commands sent since the last take whose name is one of
// names.
func (l *commandLog) take(names ...string) []bson.Raw {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []bson.Raw
	for _, c := range l.cmds {
		if slices.Contains(names, c.name) {
			out = append(out, c.body)
		}
	}
	l.cmds = nil
	return out
}

// monitoredClient is a client of MONGODB_URI, with w=1 in its own options,
// that records every command it sends.
func monitoredClient(t *testing.T) (*mongo.Client, *commandLog) {
	t.Helper()
	connect(t) // skips, or fails in CI, without a server
	log := &commandLog{}
	client, err := mongo.Connect(options.Client().ApplyURI(os.Getenv("MONGODB_URI")).
		SetServerSelectionTimeout(10 * time.Second).
		SetWriteConcern(writeconcern.W1()).
		SetMonitor(&event.CommandMonitor{Started: log.started}))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
	})
	return client, log
}

// The model writes with its own write concern, majority unless
// Options.WriteConcern says otherwise, whatever the client's.
func TestWriteConcern(t *testing.T) {
	ctx := context.Background()
	client, log := monitoredClient(t)
	for _, tc := range []struct {
		name      string
		givenWC   *writeconcern.WriteConcern
		expectedW any // the w of every write
	}{
		{name: "ok, majority by default over the client's w=1", expectedW: "majority"},
		{name: "ok, Options.WriteConcern replaces it", givenWC: writeconcern.W1(), expectedW: int64(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newModel(t, client, mongomodel.Options{WriteConcern: tc.givenWC})
			log.take()
			now := time.Now()
			require.NoError(t, m.AddClient(ctx, &oauth2server.Client{ID: "c"}))
			code := &oauth2server.AuthorizationCode{Code: "code", ClientID: "c", GrantID: "g",
				ExpiresAt: now.Add(time.Minute)}
			require.NoError(t, m.SaveAuthorizationCode(ctx, code, nil, nil))
			won, err := m.RevokeAuthorizationCode(ctx, code)
			require.NoError(t, err)
			require.True(t, won)
			require.NoError(t, m.RevokeGrant(ctx, "g"))

			writes := log.take("insert", "update", "delete", "findAndModify")
			require.NotEmpty(t, writes)
			for _, cmd := range writes {
				wc, err := cmd.LookupErr("writeConcern")
				require.NoError(t, err, "no writeConcern in %s", cmd)
				assert.Equal(t, tc.expectedW, writeConcernW(wc.Document().Lookup("w")), "%s", cmd)
			}
		})
	}
}

// writeConcernW is the w of a write concern: a string or a number.
func writeConcernW(v bson.RawValue) any {
	if s, ok := v.StringValueOK(); ok {
		return s
	}
	if n, ok := v.AsInt64OK(); ok {
		return n
	}
	return v.String()
}

// EnsureIndexes is bounded by IndexTimeout, which the driver passes on as
// maxTimeMS, and every other call by Timeout.
func TestIndexTimeout(t *testing.T) {
	ctx := context.Background()
	client, log := monitoredClient(t)
	maxTimes := func(name string) []int64 {
		var out []int64
		for _, cmd := range log.take(name) {
			v, err := cmd.LookupErr("maxTimeMS")
			if err != nil {
				out = append(out, 0)
				continue
			}
			n, ok := v.AsInt64OK()
			require.True(t, ok, "%s", cmd)
			out = append(out, n)
		}
		return out
	}
	for _, tc := range []struct {
		name                        string
		givenIndex                  time.Duration
		expectAtLeast, expectAtMost int64 // ms; 0, 0: no maxTimeMS
	}{
		{name: "ok, default 10 minutes", expectAtLeast: 9 * 60_000, expectAtMost: 10 * 60_000},
		{name: "ok, an hour", givenIndex: time.Hour, expectAtLeast: 59 * 60_000, expectAtMost: 60 * 60_000},
		{name: "ok, negative: only the caller's context", givenIndex: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := freshDB(t, client)
			m := mongomodel.New(db, mongomodel.Options{Timeout: 2 * time.Second, IndexTimeout: tc.givenIndex})
			log.take()
			require.NoError(t, m.EnsureIndexes(ctx))
			got := maxTimes("createIndexes")
			require.NotEmpty(t, got)
			for _, ms := range got {
				assert.GreaterOrEqual(t, ms, tc.expectAtLeast)
				assert.LessOrEqual(t, ms, tc.expectAtMost)
			}

			_, err := m.GetClient(ctx, "c")
			require.NoError(t, err)
			got = maxTimes("find")
			require.Len(t, got, 1)
			assert.Greater(t, got[0], int64(0), "other calls keep Options.Timeout")
			assert.LessOrEqual(t, got[0], int64(2000))
		})
	}
}
