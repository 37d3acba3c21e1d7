package mongomodel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
)

var _ oauth2server.CounterModel = (*Model)(nil)

// Throttle counters ([oauth2server.CounterModel]) are kept as a log: every
// add inserts one document into the counters collection, the next slot of
// its key, holding the counter as that add left it. The counter is the
// key's last slot. An add reads it and inserts slot n+1 with the count
// increased by delta and the same window end, or, when that window has
// ended (or there is no slot), with delta and now+window. Of racing adds
// exactly one inserts slot n+1; the others get a duplicate key error, read
// the last slot again and try the next one.
//
// A unique-_id insert is the one write that is atomic on MongoDB and on
// FerretDB alike. The obvious design, one document per key updated by an
// $inc upsert whose filter matches only a live window, lost updates on
// FerretDB, which applies an update by reading the document and writing it
// back: 50 adds released together on one counter left it at 1 to 14
// (871 of 1000 increments lost over 20 runs). Its restart of an expired
// counter is not safe there either: FerretDB deletes, by _id, the
// documents its filter matched a moment earlier, which by then may be the
// live counter that a racing add restarted under the same _id.
//
// The price: two round trips an add (a read and an insert), more under
// contention (50 adds released together on FerretDB: about 10 attempts
// each on average, about 25 for the unluckiest), and a document per add,
// refunds included. Superseded slots are pruned once no add can still be
// reading them (pruneCounter), so a flooded key holds the slots of about
// its last minute of adds; the last slot stays until counterGrace after
// its window ended. The
// last slot is found with the index on key and n; FerretDB, which uses
// indexes for no filter but one on _id alone, scans the collection.
//
// Slots are freed (TTL index, or DeleteExpired where there is none)
// counterGrace after their window ended, never at its end: the last slot
// of a key must not vanish between an add's read and its insert, or that
// add and one that found no slot would start the new window in different
// slots and one of them would be lost. An add takes at most
// [Options.Timeout], far less than counterGrace. What remains is the
// deletion racing two adds on a counter that has been over for an hour:
// then one of the first two adds of its new window may go uncounted.

// counterGrace is how long a counter's slots are kept after its window
// ended.
const counterGrace = time.Hour

// counterMaxTries bounds the inserts of one add. A try fails only when
// another add succeeded; of 50 adds released together on FerretDB the
// unluckiest needed about 25.
const counterMaxTries = 100

// counterPruneEvery is how often (in slots) an add prunes the superseded
// slots of its key, and counterPruneAge how old a superseded slot must be
// (beyond the model's Timeout) before it may go.
const (
	counterPruneEvery = 16
	counterPruneAge   = time.Minute
)

// counterDoc is one slot of a counter's log.
type counterDoc struct {
	ID        string    `bson:"_id"` // counterSlotID(Key, N)
	Key       string    `bson:"key"`
	N         int64     `bson:"n"`         // 1, 2, 3, ... in the order of the adds
	Count     int64     `bson:"count"`     // the counter after this add
	EndsAt    time.Time `bson:"endsAt"`    // the end of its window: Counter.ExpiresAt
	ExpiresAt time.Time `bson:"expiresAt"` // EndsAt + counterGrace, when it is freed
	Written   time.Time `bson:"written"`   // when the slot was inserted (the model's clock)
}

// counterHead reads the last slot of key.
func (m *Model) counterHead(ctx context.Context, key string) (counterDoc, bool, error) {
	var d counterDoc
	found, err := findOne(ctx, m.counters, bson.D{{Key: "key", Value: key}}, &d,
		options.FindOne().SetSort(bson.D{{Key: "n", Value: -1}}).
			SetProjection(bson.D{{Key: "n", Value: 1}, {Key: "count", Value: 1}, {Key: "endsAt", Value: 1}}))
	return d, found, err
}

// AddCounter implements [oauth2server.CounterModel] by inserting the next
// slot of the key's log (see above). Windows are judged by now, the
// caller's clock, not by [Options.Now]. Window ends are stored, and
// returned, at millisecond precision.
func (m *Model) AddCounter(ctx context.Context, key string, delta int64, window time.Duration, now time.Time) (oauth2server.Counter, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	for try := range counterMaxTries {
		head, found, err := m.counterHead(ctx, key)
		if err != nil {
			return oauth2server.Counter{}, wrap("add counter", err)
		}
		next := counterDoc{Key: key, N: 1, Count: delta, EndsAt: now.Add(window).Truncate(time.Millisecond)}
		if found {
			next.N = head.N + 1
			if now.Before(head.EndsAt) {
				next.Count, next.EndsAt = head.Count+delta, head.EndsAt
			}
		}
		next.ID = counterSlotID(key, next.N)
		next.EndsAt = next.EndsAt.UTC()
		next.ExpiresAt = next.EndsAt.Add(counterGrace)
		next.Written = m.opts.Now().UTC().Truncate(time.Millisecond)
		_, err = m.counters.InsertOne(ctx, next)
		if err == nil {
			if next.N%counterPruneEvery == 0 {
				// The add is done and counted: a failed prune must not
				// report it as failed (the caller would count it twice,
				// or refuse a claim that succeeded). The next prune of the
				// key deletes what this one left.
				pctx, pcancel := m.op(context.WithoutCancel(ctx)) // a timeout of its own
				_ = m.pruneCounter(pctx, key, next.N, next.Written)
				pcancel()
			}
			return oauth2server.Counter{Count: next.Count, ExpiresAt: next.EndsAt}, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return oauth2server.Counter{}, wrap("add counter", err)
		}
		// Another add took the slot. A random pause, growing with the
		// losses, spreads the next attempts of a burst.
		pause := time.NewTimer(rand.N(time.Millisecond << min(try, 6)))
		select {
		case <-ctx.Done():
			pause.Stop()
			return oauth2server.Counter{}, wrap("add counter", ctx.Err())
		case <-pause.C:
		}
	}
	return oauth2server.Counter{}, fmt.Errorf("mongomodel: add counter: %d concurrent adds took every slot this one tried", counterMaxTries)
}

// GetCounter implements [oauth2server.CounterModel]: the key's last slot,
// if its window has not ended at now.
func (m *Model) GetCounter(ctx context.Context, key string, now time.Time) (oauth2server.Counter, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	head, found, err := m.counterHead(ctx, key)
	if err != nil {
		return oauth2server.Counter{}, wrap("get counter", err)
	}
	if !found || !now.Before(head.EndsAt) {
		return oauth2server.Counter{}, nil
	}
	return oauth2server.Counter{Count: head.Count, ExpiresAt: head.EndsAt.UTC()}, nil
}

// pruneCounter deletes the slots of key below head that were written more
// than the model's Timeout plus counterPruneAge before written, so that a
// key flooded with adds holds the slots of about a minute of them, not one
// for every add of its window.
//
// Only such old slots may go. An add inserts slot j only after reading
// slot j-1 as the last one, within one call bounded by Timeout; if slot j
// were deleted while such an add was still running, its insert would
// succeed on stale state and an update would be lost. A slot superseded
// and written longer ago than any add can last is never inserted again,
// which also makes the deletion safe on FerretDB (it deletes by _id the
// documents its filter matched).
func (m *Model) pruneCounter(ctx context.Context, key string, head int64, written time.Time) error {
	if m.opts.Timeout < 0 {
		return nil // adds are unbounded in time: no slot is provably old
	}
	before := written.Add(-m.opts.Timeout - counterPruneAge)
	_, err := m.counters.DeleteMany(ctx, bson.D{
		{Key: "key", Value: key},
		{Key: "n", Value: bson.D{{Key: "$lt", Value: head}}},
		{Key: "written", Value: bson.D{{Key: "$lt", Value: before}}},
	})
	return err
}

// counterSlotID is the _id of slot n of key. n is decimal, so the last "#"
// splits an _id back into key and n: no two keys share one.
func counterSlotID(key string, n int64) string {
	return key + "#" + strconv.FormatInt(n, 10)
}
