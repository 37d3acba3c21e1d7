package mongomodel

import (
	"context"
	stderrors "errors"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EnsureIndexes creates the model's indexes. It is idempotent: run it at
// every startup.
//
//   - users: username, unique.
//   - tokens: refresh (the refresh token digest), unique; grant.
//   - codes: grant.
//   - devices: user (the user code digest), unique.
//   - counters: key and n, descending, to find a counter's last slot.
//   - tokens, codes, grants, claims, revoked_jtis, devices, counters,
//     pushed_requests: expiresAt as a TTL index (expireAfterSeconds 0), so the server
//     deletes expired items.
//
// A server that does not implement TTL indexes (FerretDB) refuses them;
// EnsureIndexes then carries on without them and [Model.TTLIndexes]
// reports false. Nothing depends on them for correctness: expiry is checked
// on every read, and [Model.DeleteExpired] frees the space instead.
func (m *Model) EnsureIndexes(ctx context.Context) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	for _, ix := range []struct {
		coll  *mongo.Collection
		model mongo.IndexModel
	}{
		{m.users, mongo.IndexModel{Keys: bson.D{{Key: "username", Value: 1}}, Options: options.Index().SetUnique(true)}},
		{m.tokens, mongo.IndexModel{Keys: bson.D{{Key: "refresh", Value: 1}}, Options: options.Index().SetUnique(true)}},
		{m.tokens, mongo.IndexModel{Keys: bson.D{{Key: "grant", Value: 1}}}},
		{m.codes, mongo.IndexModel{Keys: bson.D{{Key: "grant", Value: 1}}}},
		{m.devices, mongo.IndexModel{Keys: bson.D{{Key: "user", Value: 1}}, Options: options.Index().SetUnique(true)}},
		{m.counters, mongo.IndexModel{Keys: bson.D{{Key: "key", Value: 1}, {Key: "n", Value: -1}}}},
	} {
		if _, err := ix.coll.Indexes().CreateOne(ctx, ix.model); err != nil {
			return wrap("ensure indexes: "+ix.coll.Name(), err)
		}
	}
	ttl := true
	for _, coll := range m.expiring() {
		_, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys:    bson.D{{Key: "expiresAt", Value: 1}},
			Options: options.Index().SetExpireAfterSeconds(0),
		})
		if err != nil {
			if !ttlUnsupported(err) {
				return wrap("ensure indexes: "+coll.Name(), err)
			}
			ttl = false
			// Index the field anyway: DeleteExpired queries it.
			if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "expiresAt", Value: 1}}}); err != nil {
				return wrap("ensure indexes: "+coll.Name(), err)
			}
		}
	}
	m.ttl.Store(ttl)
	return nil
}

// ttlUnsupported reports whether err is a server refusing TTL indexes
// (FerretDB answers NotImplemented, code 238).
func ttlUnsupported(err error) bool {
	var ce mongo.CommandError
	if !stderrors.As(err, &ce) {
		return false
	}
	return ce.Code == 238 || ce.Name == "NotImplemented" ||
		strings.Contains(strings.ToLower(ce.Message), "expireafterseconds")
}

// TTLIndexes reports whether the last [Model.EnsureIndexes] created TTL
// indexes. When false, call [Model.DeleteExpired] periodically.
func (m *Model) TTLIndexes() bool { return m.ttl.Load() }

// expiring lists the collections whose documents carry expiresAt.
func (m *Model) expiring() []*mongo.Collection {
	return []*mongo.Collection{m.tokens, m.codes, m.grants, m.claims, m.jtis, m.devices, m.counters, m.pushed}
}

// DeleteExpired deletes every token, code, grant tombstone, claim, JTI
// deny-list entry, device request, counter slot and pushed request whose
// expiresAt passed, and returns how many documents it deleted. It is what
// TTL indexes do; run it periodically where they are missing. A token is
// deleted only when both its access and refresh token expired, so that
// reuse of a rotated refresh token is detected until then.
func (m *Model) DeleteExpired(ctx context.Context) (int64, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	filter := bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: m.opts.Now()}}}}
	var n int64
	for _, coll := range m.expiring() {
		res, err := coll.DeleteMany(ctx, filter)
		if err != nil {
			return n, wrap("delete expired: "+coll.Name(), err)
		}
		n += res.DeletedCount
	}
	return n, nil
}
