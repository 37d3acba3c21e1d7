package mongomodel_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/mongomodel"
)

func TestCounterIsALogOfAdds(t *testing.T) {
	// Every add inserts the next slot of its key, the one write FerretDB
	// makes atomic; the counter is the last slot.
	client := connect(t)
	ctx := context.Background()
	m, db := newModel(t, client, mongomodel.Options{})
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, delta := range []int64{1, 1, -1} {
		_, err := m.AddCounter(ctx, "login-fail:abc", delta, time.Minute, at)
		require.NoError(t, err)
	}

	cur, err := db.Collection("oauth2_counters").Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "n", Value: 1}}))
	require.NoError(t, err)
	var slots []struct {
		ID        string    `bson:"_id"`
		Key       string    `bson:"key"`
		N         int64     `bson:"n"`
		Count     int64     `bson:"count"`
		EndsAt    time.Time `bson:"endsAt"`
		ExpiresAt time.Time `bson:"expiresAt"`
	}
	require.NoError(t, cur.All(ctx, &slots))
	require.Len(t, slots, 3)
	for i, s := range slots {
		assert.Equal(t, "login-fail:abc#"+strconv.Itoa(i+1), s.ID)
		assert.Equal(t, "login-fail:abc", s.Key)
		assert.EqualValues(t, i+1, s.N)
		assert.True(t, at.Add(time.Minute).Equal(s.EndsAt), "endsAt %s", s.EndsAt)
		assert.True(t, at.Add(time.Minute+time.Hour).Equal(s.ExpiresAt), "freed an hour after the window: %s", s.ExpiresAt)
	}
	assert.Equal(t, []int64{1, 2, 1}, []int64{slots[0].Count, slots[1].Count, slots[2].Count})
}

func TestCounterSlotsAreFreedAnHourAfterTheirWindow(t *testing.T) {
	client := connect(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m, db := newModel(t, client, mongomodel.Options{Now: func() time.Time { return now }})
	add := func(key string, at time.Time) oauth2server.Counter {
		t.Helper()
		c, err := m.AddCounter(ctx, key, 1, time.Minute, at)
		require.NoError(t, err)
		return c
	}
	add("ended-2h", now.Add(-2*time.Hour))
	add("ended-2h", now.Add(-2*time.Hour))
	add("ended-30m", now.Add(-31*time.Minute))
	add("live", now)

	n, err := m.DeleteExpired(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n, "only the slots of the window that ended over an hour ago")
	left, err := db.Collection("oauth2_counters").CountDocuments(ctx, bson.D{})
	require.NoError(t, err)
	assert.EqualValues(t, 2, left)

	// Reads never depend on deletion: an ended window reads as zero
	// whether or not its slots are still there.
	for _, key := range []string{"ended-2h", "ended-30m"} {
		c, err := m.GetCounter(ctx, key, now)
		require.NoError(t, err)
		assert.Zero(t, c, key)
		assert.EqualValues(t, 1, add(key, now).Count, "%s starts again", key)
	}
	c, err := m.GetCounter(ctx, "live", now)
	require.NoError(t, err)
	assert.EqualValues(t, 1, c.Count)
}

func TestServersOnOneDatabaseShareThrottles(t *testing.T) {
	// Two Servers on one database are two instances of a deployment: the
	// failed logins counted by one delay the next attempt on the other
	//
	client := connect(t)
	ctx := context.Background()
	m1, db := newModel(t, client, mongomodel.Options{})
	m2 := mongomodel.New(db, mongomodel.Options{})
	opts := oauth2server.Options{LoginThrottle: oauth2server.LoginThrottleOptions{FreeFailures: 2}}
	a, err := oauth2server.New(m1, opts)
	require.NoError(t, err)
	b, err := oauth2server.New(m2, opts)
	require.NoError(t, err)

	for _, srv := range []*oauth2server.Server{a, b, a} {
		wait, err := srv.LoginThrottle().Attempt(ctx, "alice", "192.0.2.1")
		require.NoError(t, err)
		require.Zero(t, wait, "two free failures, and the first delayed one proceeds")
	}
	wait, err := b.LoginThrottle().Attempt(ctx, "alice", "192.0.2.1")
	require.NoError(t, err)
	assert.Positive(t, wait, "failures counted through a delay the attempt through b")
}

func TestCounterPrunesOldSupersededSlots(t *testing.T) {
	// A key flooded with adds keeps the slots of the last minute or so,
	// not one per add of its window; the counter is unaffected.
	client := connect(t)
	ctx := context.Background()
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m, db := newModel(t, client, mongomodel.Options{Timeout: 5 * time.Second, Now: func() time.Time { return clock }})
	window := 24 * time.Hour
	at := clock
	for range 40 {
		_, err := m.AddCounter(ctx, "flooded", 1, window, at)
		require.NoError(t, err)
	}
	slots := func() int64 {
		n, err := db.Collection("oauth2_counters").CountDocuments(ctx, bson.D{{Key: "key", Value: "flooded"}})
		require.NoError(t, err)
		return n
	}
	assert.EqualValues(t, 40, slots(), "recent slots are kept: an add may still be reading one")

	clock = clock.Add(5*time.Second + time.Minute + time.Millisecond)
	var c oauth2server.Counter
	for range 8 {
		var err error
		c, err = m.AddCounter(ctx, "flooded", 1, window, at)
		require.NoError(t, err)
	}
	assert.EqualValues(t, 48, c.Count)
	assert.EqualValues(t, 1+7, slots(), "slot 48 pruned the 40 old ones below it; 41..47 are recent")
	got, err := m.GetCounter(ctx, "flooded", at)
	require.NoError(t, err)
	assert.EqualValues(t, 48, got.Count)
}
