package mongomodel

import (
	"context"
	stderrors "errors"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
)

// EnsureIndexes creates the model's indexes. It is idempotent: run it at
// every startup.
//
//   - users: username, unique.
//   - tokens: refresh (the refresh token digest), unique; grant.
//   - codes: grant.
//   - devices: user (the user code digest), unique.
//   - counters: key and n, descending, to find a counter's last slot.
//   - grants: revokedAt, for the step below.
//   - tokens, codes: {userId, clientId} and clientId; consents: {user,
//     client} and client: for grant management ([Model.ListGrants],
//     [Model.ListConsents]).
//   - consents: consentId, unique and sparse, for [Model.GetConsentByID]
//     (sparse, so that consents saved before ids existed do not collide
//     until they get one, below).
//   - tokens, codes, grants, claims, revoked_jtis, devices, counters,
//     pushed_requests, consents: expiresAt as a TTL index
//     (expireAfterSeconds 0), so the server deletes expired items. A
//     consent that never expires has no expiresAt and is never deleted.
//
// A server that does not implement TTL indexes (FerretDB) refuses them;
// EnsureIndexes then carries on without them and [Model.TTLIndexes]
// reports false. Nothing depends on them for correctness: expiry is checked
// on every read, and [Model.DeleteExpired] frees the space instead.
//
// Creating an index that exists is a no-op. The first run on collections
// that already hold many documents builds the missing indexes, which can
// take minutes: the whole call is bounded by [Options.IndexTimeout], not
// [Options.Timeout].
//
// Then it writes the family document of every grant family revoked since
// its last run (an hour of overlap allows for clocks that differ between
// instances), all of them on the first run: earlier versions of this
// package revoked families without one, and a family without its document
// would let the next token saved into it skip the tombstone lookup (see
// SaveToken). That is one bulk write per 500 families; later runs find
// only the families that instances of an earlier version revoked since.
//
// Last it gives an id to every consent without one: those that earlier
// versions of this package saved. That reads the consents collection
// (only the documents without consentId, but the sparse index cannot find
// those, so the server scans); it writes only on the first run after an
// upgrade, or after an instance of an earlier version saved a consent.
func (m *Model) EnsureIndexes(ctx context.Context) error {
	ctx, cancel := bound(ctx, m.opts.IndexTimeout)
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
		{m.grants, mongo.IndexModel{Keys: bson.D{{Key: "revokedAt", Value: 1}}}},
		// Grant management (grants.go): by user, by user and client, by client.
		{m.tokens, mongo.IndexModel{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "clientId", Value: 1}}}},
		{m.tokens, mongo.IndexModel{Keys: bson.D{{Key: "clientId", Value: 1}}}},
		{m.codes, mongo.IndexModel{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "clientId", Value: 1}}}},
		{m.codes, mongo.IndexModel{Keys: bson.D{{Key: "clientId", Value: 1}}}},
		{m.consents, mongo.IndexModel{Keys: bson.D{{Key: "user", Value: 1}, {Key: "client", Value: 1}}}},
		{m.consents, mongo.IndexModel{Keys: bson.D{{Key: "client", Value: 1}}}},
		// Consent ids (consent.go). Sparse rather than partial: FerretDB
		// implements no partialFilterExpression.
		{m.consents, mongo.IndexModel{Keys: bson.D{{Key: "consentId", Value: 1}},
			Options: options.Index().SetUnique(true).SetSparse(true)}},
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
	if err := m.guardRevokedFamilies(ctx); err != nil {
		return wrap("ensure indexes: family documents", err)
	}
	if err := m.giveConsentIDs(ctx); err != nil {
		return wrap("ensure indexes: consent ids", err)
	}
	return nil
}

// giveConsentIDs sets a new consentId on every consent without one, 500
// to a bulk write. Each update is conditional on the consent still having
// none, so that a consent an instance saves meanwhile keeps the id it was
// saved with. (FerretDB evaluates such a condition apart from the write:
// a consent saved in between can lose its new id to one given here,
// which changes its name once and nothing else.)
func (m *Model) giveConsentIDs(ctx context.Context) error {
	missing := bson.D{{Key: "consentId", Value: bson.D{{Key: "$exists", Value: false}}}}
	cur, err := m.consents.Find(ctx, missing, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return err
	}
	return inBatches(ctx, cur, func(cur *mongo.Cursor) (mongo.WriteModel, error) {
		var d struct {
			ID string `bson:"_id"`
		}
		if err := cur.Decode(&d); err != nil {
			return nil, err
		}
		return mongo.NewUpdateOneModel().
			SetFilter(append(bson.D{{Key: "_id", Value: d.ID}}, missing...)).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "consentId", Value: oauth2server.NewConsentID()}}}}), nil
	}, func(batch []mongo.WriteModel) error {
		_, err := m.consents.BulkWrite(ctx, batch, options.BulkWrite().SetOrdered(false))
		return err
	})
}

// inBatches turns every document of cur into a write and sends the writes
// familyBatch at a time: a backfill over a large collection holds neither
// all of its writes in memory nor one round trip per document.
func inBatches(ctx context.Context, cur *mongo.Cursor, write func(*mongo.Cursor) (mongo.WriteModel, error),
	send func([]mongo.WriteModel) error) error {
	defer cur.Close(ctx)
	batch := make([]mongo.WriteModel, 0, familyBatch)
	for cur.Next(ctx) {
		w, err := write(cur)
		if err != nil {
			return err
		}
		if batch = append(batch, w); len(batch) == familyBatch {
			if err := send(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := cur.Err(); err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	return send(batch)
}

// familiesGuardedID is the _id, in the grants collection, of the document
// whose revokedAt says up to when guardRevokedFamilies has written the
// family documents of the tombstones. It has no expiresAt, so it is never
// deleted, and the Server makes no grant id of this form.
const familiesGuardedID = "mongomodel:family-documents"

// familyBatch is how many family documents one bulk write carries.
const familyBatch = 500

// guardRevokedFamilies writes the family document (guardFamily) of every
// tombstone revoked since an hour before its last run, then records this
// run's start.
func (m *Model) guardRevokedFamilies(ctx context.Context) error {
	start := m.opts.Now()
	var done grantDoc
	found, err := findOne(ctx, m.grants, bson.D{{Key: "_id", Value: familiesGuardedID}}, &done)
	if err != nil {
		return err
	}
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$ne", Value: familiesGuardedID}}}}
	if found {
		filter = append(filter, bson.E{Key: "revokedAt", Value: bson.D{{Key: "$gte", Value: done.RevokedAt.Add(-time.Hour)}}})
	}
	cur, err := m.grants.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "expiresAt", Value: 1}}))
	if err != nil {
		return err
	}
	err = inBatches(ctx, cur, func(cur *mongo.Cursor) (mongo.WriteModel, error) {
		var g grantDoc
		if err := cur.Decode(&g); err != nil {
			return nil, err
		}
		id := familyPrefix + g.ID
		return mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: id}}).
			SetUpdate(bson.D{
				{Key: "$max", Value: bson.D{{Key: "expiresAt", Value: g.ExpiresAt}}},
				{Key: "$setOnInsert", Value: bson.D{{Key: "refresh", Value: id}}},
			}).SetUpsert(true), nil
	}, func(batch []mongo.WriteModel) error { return bulkRetry(ctx, m.tokens, batch) })
	if err != nil {
		return err
	}
	_, err = m.grants.UpdateOne(ctx, bson.D{{Key: "_id", Value: familiesGuardedID}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "revokedAt", Value: start}}}}, options.UpdateOne().SetUpsert(true))
	return err
}

// bulkRetry runs unordered upserts, once more if one lost a race to an
// insert of the same _id (a duplicate key): then the document exists and
// the upsert updates it.
func bulkRetry(ctx context.Context, coll *mongo.Collection, writes []mongo.WriteModel) error {
	for try := 0; ; try++ {
		_, err := coll.BulkWrite(ctx, writes, options.BulkWrite().SetOrdered(false))
		if err == nil || try == 2 || !mongo.IsDuplicateKeyError(err) {
			return err
		}
	}
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
	return []*mongo.Collection{m.tokens, m.codes, m.grants, m.claims, m.jtis, m.devices, m.counters, m.pushed, m.consents}
}

// DeleteExpired deletes every token, code, grant tombstone, claim, JTI
// deny-list entry, device request, counter slot, pushed request and
// consent whose expiresAt passed, and returns how many documents it
// deleted. It is what TTL indexes do; run it periodically where they are
// missing. A token is deleted only when both its access and refresh token
// expired, so that reuse of a rotated refresh token is detected until
// then. A revoked consent needs no sweep: revocation deletes it.
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
