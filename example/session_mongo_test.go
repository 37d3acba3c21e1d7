package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// mongoDB returns the database of a MongoDB app, for looking at its
// documents.
func mongoDB(t *testing.T, a *app) *mongo.Database {
	t.Helper()
	ms, ok := a.sessions.store.(*mongoSessions)
	require.True(t, ok, "sessions in MongoDB")
	return ms.sessions.Database()
}

// With -mongo-uri, sessions live in MongoDB, keyed by the SHA-256 of the
// cookie value; anonymous visits store nothing there either.
func TestMongoSessionDocuments(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{MongoURI: mongoURI(t), SessionKey: newSessionKey(t)})
	ctx := context.Background()
	coll := mongoDB(t, ts.app).Collection(sessionsCollection)
	for range 50 {
		for _, p := range []string{"/", loginPath} {
			resp, _ := get(t, &http.Client{}, ts.base+p)
			require.Equal(t, http.StatusOK, resp.StatusCode)
		}
	}
	n, err := coll.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Zero(t, n, "anonymous visits store nothing")

	c := browser(t)
	ts.login(t, c)
	u, _ := url.Parse(ts.base)
	id := sessionCookieOf(t, c, u)
	raw, err := coll.FindOne(ctx, bson.D{}).Raw()
	require.NoError(t, err)
	assert.Equal(t, sessionKey(id), raw.Lookup("_id").StringValue(), "keyed by the digest")
	assert.NotContains(t, string(raw), id, "the session id is not stored")
	assert.Equal(t, demoUsername, raw.Lookup("user").StringValue())

	// Logout deletes it.
	_, home := get(t, c, ts.base+"/")
	resp, _ := post(t, c, ts.base+logoutPath, url.Values{"csrf_token": {csrfToken(t, home)}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	n, err = coll.CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.Zero(t, n)
}

// The MongoDB session store behaves like the memory one: expiry checked
// on read (FerretDB has no TTL indexes), last use recorded, a cap that
// evicts the least recently used.
func TestMongoSessions(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{MongoURI: mongoURI(t), SessionKey: newSessionKey(t)})
	db := mongoDB(t, ts.app)
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Millisecond) // BSON dates hold milliseconds

	t.Run("ok, expiry is checked on read", func(t *testing.T) {
		m := newMongoSessions(db, 100)
		require.NoError(t, m.create(ctx, newSession("idle", t0)))
		s, err := m.get(ctx, "idle", t0.Add(sessionIdleTimeout-time.Second))
		require.NoError(t, err)
		require.NotNil(t, s)
		assert.Equal(t, "u-idle", s.userID)
		assert.Equal(t, "idle", s.username)
		// That read recorded the use: the idle timeout starts again.
		s, err = m.get(ctx, "idle", t0.Add(2*sessionIdleTimeout-2*time.Second))
		require.NoError(t, err)
		require.NotNil(t, s)
		s, err = m.get(ctx, "idle", t0.Add(3*sessionIdleTimeout))
		require.NoError(t, err)
		assert.Nil(t, s, "idle for too long")
		s, err = m.get(ctx, "missing", t0)
		require.NoError(t, err)
		assert.Nil(t, s)

		require.NoError(t, m.create(ctx, newSession("old", t0.Add(-sessionMaxLifetime))))
		s, err = m.get(ctx, "old", t0)
		require.NoError(t, err)
		assert.Nil(t, s, "past its maximum lifetime")
	})

	t.Run("ok, deleteExpired removes only expired sessions", func(t *testing.T) {
		m := &mongoSessions{sessions: db.Collection("expiry_sessions"), max: 100}
		require.NoError(t, m.ensureIndexes(ctx, false))
		for i := range 6 { // one every 10 minutes
			require.NoError(t, m.create(ctx, newSession(fmt.Sprint(i), t0.Add(time.Duration(i)*10*time.Minute))))
		}
		require.NoError(t, m.create(ctx, newSession("s", t0.Add(time.Hour))))
		// At t0+45m sessions 0 and 1 are idle for more than 30 minutes.
		n, err := m.deleteExpired(ctx, t0.Add(45*time.Minute))
		require.NoError(t, err)
		assert.Equal(t, int64(2), n, "sessions 0 and 1")
		left, err := m.sessions.CountDocuments(ctx, bson.D{})
		require.NoError(t, err)
		assert.Equal(t, int64(5), left)
	})

	t.Run("ok, the cap evicts the least recently used", func(t *testing.T) {
		m := &mongoSessions{sessions: db.Collection("cap_sessions"), max: 3}
		require.NoError(t, m.ensureIndexes(ctx, false))
		for i := range 3 {
			require.NoError(t, m.create(ctx, newSession(fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute))))
		}
		_, err := m.get(ctx, "0", t0.Add(4*time.Minute)) // 0 is now the most recently used
		require.NoError(t, err)
		require.NoError(t, m.create(ctx, newSession("3", t0.Add(5*time.Minute))))
		for key, expect := range map[string]bool{"0": true, "1": false, "2": true, "3": true} {
			s, err := m.get(ctx, key, t0.Add(6*time.Minute))
			require.NoError(t, err)
			assert.Equal(t, expect, s != nil, "session %s", key)
		}
	})
}

// -mongo-uri needs a session key that every instance shares: a key per
// process would fail every form that lands on another instance.
func TestMongoNeedsSessionKey(t *testing.T) {
	t.Parallel()
	_, _, err := newApp(appConfig{Addr: "127.0.0.1:9096", hashPassword: cheapHash, MongoURI: "mongodb://127.0.0.1:1/"})
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "-mongo-uri needs -session-key"), err.Error())
	_, _, err = newApp(appConfig{Addr: "127.0.0.1:9096", hashPassword: cheapHash, SessionKey: make([]byte, 31)})
	assert.ErrorContains(t, err, "shorter than 32 bytes")
}
