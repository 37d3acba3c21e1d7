package mongomodel

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
)

// SaveToken implements [oauth2server.Model]. It stores digests of the token
// strings, and stores the token revoked if its grant family was revoked.
func (m *Model) SaveToken(ctx context.Context, t *oauth2server.Token, _ *oauth2server.Client, _ *oauth2server.User) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	d := tokenToDoc(t)
	if _, err := m.tokens.InsertOne(ctx, d); err != nil {
		return wrap("save token", err)
	}
	if err := m.applyTombstone(ctx, m.tokens, d.ID, d.GrantID, d.Revoked); err != nil {
		return wrap("save token", err)
	}
	return nil
}

// applyTombstone revokes the just-inserted item id if its grant family has
// a tombstone.
//
// Why insert first, check second: RevokeGrant writes the tombstone first
// and then revokes the family's items. For an item saved concurrently,
// either this check runs after the tombstone was written and sees it, or it
// ran before; then the insert, which precedes the check, also precedes the
// tombstone and so RevokeGrant's update, which follows the tombstone, finds
// the item. Either way no item of a revoked family stays live, without a
// transaction. (On a replica set this needs majority writes and primary
// reads, see docs/mongodb.md.)
func (m *Model) applyTombstone(ctx context.Context, coll *mongo.Collection, id, grantID string, revoked bool) error {
	if grantID == "" || revoked {
		return nil
	}
	var g grantDoc
	found, err := findOne(ctx, m.grants, bson.D{{Key: "_id", Value: grantID}}, &g,
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil || !found {
		return err
	}
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, setRevoked)
	return err
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
	if err != nil || !found {
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
// AccessToken of t or, when that is empty, by its RefreshToken. Of
// concurrent calls for one token exactly one reports true.
func (m *Model) RevokeToken(ctx context.Context, t *oauth2server.Token) (bool, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var id string
	switch {
	case t.AccessToken != "":
		id = oauth2server.TokenDigest(t.AccessToken)
	case t.RefreshToken != "":
		// The claim must be keyed by the record's _id whichever string
		// the caller holds, so look the _id up first.
		var d struct {
			ID      string `bson:"_id"`
			Revoked bool   `bson:"revoked"`
		}
		found, err := findOne(ctx, m.tokens, bson.D{{Key: "refresh", Value: oauth2server.TokenDigest(t.RefreshToken)}}, &d,
			options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "revoked", Value: 1}}))
		if err != nil || !found || d.Revoked {
			return false, wrapIf("revoke token", err)
		}
		id = d.ID
	default:
		return false, nil
	}
	return m.claim(ctx, m.tokens, "t:", id, "revoke token")
}

// claim revokes the live item id of coll for exactly one of any number of
// concurrent callers.
//
// The arbiter is the insert of a claim document with a unique _id: a
// unique-key insert is atomic on MongoDB and on the servers that emulate
// it. A conditional update alone (FindOneAndUpdate on {revoked: false})
// would be one round trip less and is atomic on MongoDB, but FerretDB
// evaluates the filter and writes in separate steps, so several callers
// can all see revoked=false. The claim decides the race; the conditional
// update then makes the revocation durable and reports false for an
// unknown item or one that RevokeGrant revoked already.
func (m *Model) claim(ctx context.Context, coll *mongo.Collection, prefix, id, op string) (bool, error) {
	c := claimDoc{ID: prefix + id, ExpiresAt: m.opts.Now().Add(claimLifetime)}
	if _, err := m.claims.InsertOne(ctx, c); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return false, nil
		}
		return false, wrap(op, err)
	}
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "revoked", Value: false}}, setRevoked)
	if err != nil {
		// Give the claim back so that a retry can win it. If the update
		// did apply, the revoked flag makes the retry report false.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_, _ = m.claims.DeleteOne(dctx, bson.D{{Key: "_id", Value: c.ID}})
		return false, wrap(op, err)
	}
	return res.MatchedCount == 1, nil
}

// RevokeGrant implements [oauth2server.RefreshTokenModel]. It writes the
// family's tombstone first and then revokes the family's tokens and codes;
// see SaveToken for why this order needs no transaction.
func (m *Model) RevokeGrant(ctx context.Context, grantID string) error {
	if grantID == "" {
		return nil
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	now := m.opts.Now()
	_, err := m.grants.InsertOne(ctx, grantDoc{ID: grantID, RevokedAt: now, ExpiresAt: now.Add(m.opts.GrantTombstoneLifetime)})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
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
