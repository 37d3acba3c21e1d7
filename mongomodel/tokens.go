package mongomodel

import (
	"context"
	stderrors "errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
)

// SaveToken implements [oauth2server.Model]. It stores digests of the token
// strings, and stores the token revoked, with its ID on the JTI deny-list,
// if its grant family was revoked.
//
// One round trip for the first token of a family (client_credentials and
// password tokens, the token of a code exchange or a device redemption):
// the insert carries the family's document too, and when that insert
// succeeds, no revocation of the family can have begun (see saveInFamily).
// A later token of the family (a refresh) costs a second round trip, the
// tombstone lookup.
func (m *Model) SaveToken(ctx context.Context, t *oauth2server.Token, _ *oauth2server.Client, _ *oauth2server.User) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	d := tokenToDoc(t)
	if d.GrantID == "" || (d.Revoked && d.JTI == "") {
		// No family to join, or nothing a revocation could still change.
		_, err := m.tokens.InsertOne(ctx, d)
		return wrapIf("save token", err)
	}
	first, err := m.saveInFamily(ctx, &d)
	if err != nil {
		return wrap("save token", err)
	}
	if first {
		return nil
	}
	dead, err := m.tombstoned(ctx, d.GrantID)
	if err != nil || !dead {
		return wrapIf("save token", err)
	}
	// The deny-list entry first: see RevokeToken.
	if err := m.denyList(ctx, tokenJTI(&d)); err != nil {
		return wrap("save token", err)
	}
	if !d.Revoked {
		if _, err := m.tokens.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, setRevoked); err != nil {
			return wrap("save token", err)
		}
	}
	return nil
}

// saveInFamily inserts the token and, in the same ordered insert, its
// family's document (_id "f:" + grant id). It reports whether the family
// document was inserted too; if it was not (a duplicate key: the family
// has a document already), the token was inserted alone and the caller
// must look for a tombstone (see tombstoned).
//
// Why an inserted family document makes the tombstone lookup unnecessary:
// RevokeGrant writes the family document (guardFamily) before the
// tombstone, and both before it finds and revokes the family's tokens. If
// this insert created the family document, RevokeGrant's write of it came
// later; the token, inserted before the family document in the same
// ordered insert, was then stored before RevokeGrant's reads and updates,
// which find and revoke it. If instead the family document existed, it may
// be RevokeGrant's, and the tombstone lookup after the insert decides, as
// for every item of a family. Either way no token of a revoked family stays
// live, and the first token of a family is saved in one round trip.
//
// The family document of a token is kept as long as the token; RevokeGrant
// keeps it as long as the tombstone, so that every token saved into the
// family afterwards is checked.
func (m *Model) saveInFamily(ctx context.Context, d *tokenDoc) (bool, error) {
	_, err := m.tokens.InsertMany(ctx, []any{d, familyOf(d)}, options.InsertMany().SetOrdered(true))
	if err == nil {
		return true, nil
	}
	var bwe mongo.BulkWriteException
	if stderrors.As(err, &bwe) && bwe.WriteConcernError == nil && len(bwe.WriteErrors) == 1 &&
		bwe.WriteErrors[0].Index == 1 && mongo.IsDuplicateKeyError(bwe.WriteErrors[0]) {
		return false, nil // the token is stored, the family had a document
	}
	return false, err
}

// familyOf is the document of the family of d, kept as long as d.
func familyOf(d *tokenDoc) familyDoc {
	id := familyPrefix + d.GrantID
	return familyDoc{ID: id, Refresh: id, ExpiresAt: d.ExpiresAt}
}

// guardFamily makes sure the family has a document until expiresAt, so
// that from now on every token saved into it looks for the tombstone (see
// saveInFamily). A duplicate key from the upsert means a concurrent insert
// of the document won; the retry updates it.
func (m *Model) guardFamily(ctx context.Context, grantID string, expiresAt time.Time) error {
	id := familyPrefix + grantID
	for try := 0; ; try++ {
		_, err := m.tokens.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
			bson.D{
				{Key: "$max", Value: bson.D{{Key: "expiresAt", Value: expiresAt}}},
				{Key: "$setOnInsert", Value: bson.D{{Key: "refresh", Value: id}}},
			}, options.UpdateOne().SetUpsert(true))
		if err == nil || try == 2 || !mongo.IsDuplicateKeyError(err) {
			return err
		}
	}
}

// tombstoned reports whether the grant family has a tombstone. It is read
// after the item was inserted.
//
// Why insert first, check second: RevokeGrant writes the tombstone first
// and then finds and revokes the family's items. For an item saved
// concurrently, either this check runs after the tombstone was written and
// sees it (and the saver revokes the item itself), or it ran before; then
// the insert, which precedes the check, also precedes the tombstone and so
// RevokeGrant's reads and updates, which follow the tombstone, find the
// item. Either way no item of a revoked family stays live, and no JWT of
// one escapes the deny-list, without a transaction. (On a replica set this
// needs majority writes and primary reads, see docs/mongodb.md.)
func (m *Model) tombstoned(ctx context.Context, grantID string) (bool, error) {
	var g grantDoc
	return findOne(ctx, m.grants, bson.D{{Key: "_id", Value: grantID}}, &g,
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}}))
}

// setRevoked is the only update ever applied to a token or code: revoked
// goes from false to true and never back, so concurrent updates cannot
// undo each other even where the server's updates are not atomic.
var setRevoked = bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}}}}

// GetAccessToken implements [oauth2server.AccessTokenModel]. The returned
// Token has the AccessToken that was looked up; RefreshToken is empty
// because only its digest is stored.
func (m *Model) GetAccessToken(ctx context.Context, accessToken string) (*oauth2server.Token, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d tokenDoc
	found, err := findOne(ctx, m.tokens, bson.D{{Key: "_id", Value: oauth2server.TokenDigest(accessToken)}}, &d)
	if err != nil || !found || d.Stub {
		return nil, wrapIf("get access token", err)
	}
	return d.token(accessToken, ""), nil
}

// GetRefreshToken implements [oauth2server.RefreshTokenModel]. The returned
// Token has the RefreshToken that was looked up; AccessToken is empty
// because only its digest is stored. Revoked tokens are returned with
// Revoked set until they are deleted after expiry.
func (m *Model) GetRefreshToken(ctx context.Context, refreshToken string) (*oauth2server.Token, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d tokenDoc
	found, err := findOne(ctx, m.tokens, bson.D{{Key: "refresh", Value: oauth2server.TokenDigest(refreshToken)}}, &d)
	if err != nil || !found {
		return nil, wrapIf("get refresh token", err)
	}
	return d.token("", refreshToken), nil
}

// RevokeToken implements [oauth2server.RefreshTokenModel]: it revokes the
// token record (access and refresh token together), found by the
// AccessToken of t or, when that is empty or unknown, by its RefreshToken,
// and puts the record's stored ID on the JTI deny-list. Of concurrent calls
// for one token exactly one reports true.
//
// The deny-list entry is written before the revoked flag and the claim: a
// failure in between leaves a live record whose JWT is already refused,
// which fails safe, where the other order could leave a revoked record
// whose JWT still works and that no later RevokeToken would repair (it
// reports false for a revoked record). Losers of the race write the same
// entry; that is harmless, the winner revokes the token anyway.
func (m *Model) RevokeToken(ctx context.Context, t *oauth2server.Token) (bool, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var (
		d     tokenDoc
		found bool
		err   error
	)
	// The claim must be keyed by the record's _id whichever string the
	// caller holds, and the jti is the stored one: look the record up.
	proj := options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "revoked", Value: 1},
		{Key: "jti", Value: 1}, {Key: "accessExpiresAt", Value: 1}})
	if t.AccessToken != "" {
		found, err = findOne(ctx, m.tokens, bson.D{{Key: "_id", Value: oauth2server.TokenDigest(t.AccessToken)}}, &d, proj)
	}
	if err == nil && !found && t.RefreshToken != "" {
		found, err = findOne(ctx, m.tokens, bson.D{{Key: "refresh", Value: oauth2server.TokenDigest(t.RefreshToken)}}, &d, proj)
	}
	if err != nil || !found || d.Revoked {
		return false, wrapIf("revoke token", err)
	}
	if err := m.denyList(ctx, tokenJTI(&d)); err != nil {
		return false, wrap("revoke token", err)
	}
	return m.claim(ctx, m.tokens, "t:", d.ID, "revoke token")
}

// claim revokes the live item id of coll for exactly one of any number of
// concurrent callers, in one round trip: one ordered update command of two
// statements.
//
// First the conditional update {revoked: false} -> {revoked: true}: on
// MongoDB it is atomic and matches for one caller only, but FerretDB
// evaluates the filter and writes in separate steps, so several racing
// callers can all see it match. Then, for those, the arbiter: the claim
// document, _id prefix + id in the same collection, which an upsert
// creates for one caller only (a unique _id, atomic on MongoDB and on the
// servers that emulate it); the others find it or get a duplicate key. The
// one whose upsert created the claim reports true.
//
// Only callers whose first statement matched may run the second: a caller
// that found the item revoked already, and took the claim, would leave the
// true caller without it. An ordered command stops at an error but not at
// a statement that matched nothing, so the first statement is an upsert
// too: when the item exists but is revoked, its insert fails with a
// duplicate _id and the command stops there. When the item does not exist,
// it inserts a stub (stub: true, revoked, expiring with the claim), which
// every lookup treats as absent, and the call reports false.
//
// The revoked flag comes first so that a server stopping in between (a
// timeout, a crash) leaves the item revoked, with nobody told so: a
// redemption or rotation then counts as a replay, which fails safe. The
// other order left a claim that no later call could take and an item that
// stayed live, which the revocation endpoint (it ignores RevokeToken's
// answer) could not fix.
func (m *Model) claim(ctx context.Context, coll *mongo.Collection, prefix, id, op string) (bool, error) {
	expires := m.opts.Now().Add(claimLifetime)
	claimID := prefix + id
	stub := bson.D{{Key: "stub", Value: true}, {Key: "expiresAt", Value: expires}}
	mark := bson.D{{Key: "expiresAt", Value: expires}}
	if coll == m.tokens {
		// The unique index on refresh needs a distinct value.
		stub = append(stub, bson.E{Key: "refresh", Value: stubPrefix + id})
		mark = append(mark, bson.E{Key: "refresh", Value: claimID})
	}
	res, err := coll.BulkWrite(ctx, []mongo.WriteModel{
		mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: id}, {Key: "revoked", Value: false}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "revoked", Value: true}}}, {Key: "$setOnInsert", Value: stub}}).
			SetUpsert(true),
		mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: claimID}}).
			SetUpdate(bson.D{{Key: "$setOnInsert", Value: mark}}).
			SetUpsert(true),
	}, options.BulkWrite().SetOrdered(true))
	if err != nil {
		if onlyDuplicateKeys(err) {
			return false, nil // revoked already, or another caller's claim
		}
		return false, wrap(op, err)
	}
	// By value, not by statement index: FerretDB numbers the upserted
	// documents, not the statements.
	var stubbed, claimed bool
	for _, v := range res.UpsertedIDs {
		stubbed = stubbed || v == id
		claimed = claimed || v == claimID
	}
	return claimed && !stubbed, nil
}

// onlyDuplicateKeys reports whether err is a bulk write whose only errors
// are duplicate keys.
func onlyDuplicateKeys(err error) bool {
	var bwe mongo.BulkWriteException
	if !stderrors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) {
			return false
		}
	}
	return true
}

// RevokeGrant implements [oauth2server.GrantModel]. It writes the
// family's document (guardFamily) and tombstone first, then puts the IDs of
// the family's unexpired tokens on the JTI deny-list, then revokes the
// family's tokens and codes; see saveInFamily and tombstoned for why this
// order needs no transaction. The deny-list comes before the revoked flags
// for the reason given at RevokeToken, and takes revoked tokens too, so
// that running RevokeGrant again repairs what an interrupted run left.
func (m *Model) RevokeGrant(ctx context.Context, grantID string) error {
	if grantID == "" {
		return nil
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	now := m.opts.Now()
	expires := now.Add(m.opts.GrantTombstoneLifetime)
	// The family document first: see saveInFamily.
	if err := m.guardFamily(ctx, grantID, expires); err != nil {
		return wrap("revoke grant", err)
	}
	_, err := m.grants.InsertOne(ctx, grantDoc{ID: grantID, RevokedAt: now, ExpiresAt: expires})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return wrap("revoke grant", err)
	}
	if err := m.denyListFamily(ctx, grantID, now); err != nil {
		return wrap("revoke grant", err)
	}
	family := bson.D{{Key: "grant", Value: grantID}, {Key: "revoked", Value: false}}
	if _, err := m.tokens.UpdateMany(ctx, family, setRevoked); err != nil {
		return wrap("revoke grant", err)
	}
	if _, err := m.codes.UpdateMany(ctx, family, setRevoked); err != nil {
		return wrap("revoke grant", err)
	}
	return nil
}

// denyListFamily puts the jti of every token of the family whose access
// token has not expired on the deny-list.
func (m *Model) denyListFamily(ctx context.Context, grantID string, now time.Time) error {
	cur, err := m.tokens.Find(ctx, bson.D{
		{Key: "grant", Value: grantID},
		{Key: "jti", Value: bson.D{{Key: "$exists", Value: true}}},
		{Key: "accessExpiresAt", Value: bson.D{{Key: "$gt", Value: now}}},
	}, options.Find().SetProjection(bson.D{{Key: "jti", Value: 1}, {Key: "accessExpiresAt", Value: 1}}))
	if err != nil {
		return err
	}
	var docs []tokenDoc
	if err := cur.All(ctx, &docs); err != nil {
		return err
	}
	var entries []jtiDoc
	for i := range docs {
		entries = append(entries, tokenJTI(&docs[i])...)
	}
	return m.denyList(ctx, entries)
}
