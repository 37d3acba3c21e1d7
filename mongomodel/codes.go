package mongomodel

import (
	"context"
	stderrors "errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
)

// SaveAuthorizationCode implements [oauth2server.AuthorizationCodeModel].
// It stores the digest of the code, and stores the code revoked if its
// grant family was revoked.
func (m *Model) SaveAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode, _ *oauth2server.Client, _ *oauth2server.User) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	d := codeToDoc(c)
	if _, err := m.codes.InsertOne(ctx, d); err != nil {
		return wrap("save authorization code", err)
	}
	if d.GrantID == "" || d.Revoked {
		return nil
	}
	// Insert first, check second: see tombstoned.
	dead, err := m.tombstoned(ctx, d.GrantID)
	if err != nil || !dead {
		return wrapIf("save authorization code", err)
	}
	if _, err := m.codes.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, setRevoked); err != nil {
		return wrap("save authorization code", err)
	}
	return nil
}

// GetAuthorizationCode implements [oauth2server.AuthorizationCodeModel].
// Redeemed codes are returned with Revoked set until they are deleted after
// expiry.
func (m *Model) GetAuthorizationCode(ctx context.Context, code string) (*oauth2server.AuthorizationCode, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d codeDoc
	found, err := findOne(ctx, m.codes, bson.D{{Key: "_id", Value: oauth2server.TokenDigest(code)}}, &d)
	if err != nil || !found || d.Stub {
		return nil, wrapIf("get authorization code", err)
	}
	return d.code(code), nil
}

// RevokeAuthorizationCode implements [oauth2server.AuthorizationCodeModel]:
// of concurrent calls for one code, of this method and of
// RedeemAuthorizationCode, at most one reports true, and exactly one when
// the code is live. Two round trips: the code's revoked flag, a
// conditional update, then for a caller whose update matched, the insert
// of the code's claim, the arbiter RedeemAuthorizationCode inserts too.
//
// The flag comes first for the reason given at claim: a server stopping in
// between leaves the code revoked, never live behind a claim. The
// conditional update alone does not decide: FerretDB evaluates its filter
// and writes in separate steps, so racing callers can all see it match.
// A caller whose update matched nothing (the code is unknown or revoked)
// must not take the claim, which a concurrent caller may be due.
func (m *Model) RevokeAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode) (bool, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	res, err := m.codes.UpdateOne(ctx, bson.D{{Key: "_id", Value: oauth2server.TokenDigest(c.Code)},
		{Key: "revoked", Value: false}}, setRevoked)
	if err != nil {
		return false, wrap("revoke authorization code", err)
	}
	if res.MatchedCount == 0 {
		return false, nil
	}
	if _, err := m.tokens.InsertOne(ctx, m.codeClaim(c)); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return false, nil // redeemed, or another caller's claim
		}
		return false, wrap("revoke authorization code", err)
	}
	return true, nil
}

// RedeemAuthorizationCode implements [oauth2server.CodeRedemptionModel]
// in one round trip: one ordered insert into the tokens collection of the
// code's claim, the token, and the document of the token's family, in
// this order.
//
//   - The claim (_id "c:" + the code's digest) decides single use: a
//     unique _id, atomic on MongoDB and on FerretDB. A second redemption,
//     or one after RevokeAuthorizationCode, fails on it with a duplicate
//     key, and an ordered insert stops at its first error: it inserts
//     nothing, and the call reports false.
//   - The token comes before the family document for the reason given at
//     saveInFamily: if the family document is inserted, no revocation of
//     the family had begun, and the token, already stored, is found by
//     any that begins later.
//   - If the family had a document already (a duplicate key on the third
//     document), the claim and the token are stored and the tombstone is
//     looked up, as SaveToken does. The Server gives every code a family
//     of its own, so this happens only when RevokeGrant wrote it: a code
//     revoked with its family cannot be redeemed. A tombstone found
//     makes the call delete the token and report false; the code stays
//     spent.
//
// A fault between the documents leaves the code spent without a token
// (the client's retry counts as a replay, which fails safe), or a token
// with no family document, which nobody was given and which RevokeGrant
// still finds: never a token without the code spent.
//
// The code's own document is not marked in this round trip (it lives in
// another collection), so GetAuthorizationCode reports a redeemed code as
// not revoked: its replay is detected here, by the claim. ListGrants reads
// the claims, which carry the code's client and user, and counts a
// claimed code as spent.
//
// A type that embeds Model and overrides SaveToken or
// RevokeAuthorizationCode (a test double injecting faults, an auditing
// wrapper) must override this method too, or hide it: the Server calls it
// on every code exchange instead of those two, and would find this one
// through the embedding.
func (m *Model) RedeemAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode, t *oauth2server.Token, _ *oauth2server.Client, _ *oauth2server.User) (bool, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	d := tokenToDoc(t)
	docs := []any{m.codeClaim(c), d}
	if d.GrantID != "" {
		docs = append(docs, familyOf(&d))
	}
	_, err := m.tokens.InsertMany(ctx, docs, options.InsertMany().SetOrdered(true))
	if err == nil {
		return true, nil
	}
	var bwe mongo.BulkWriteException
	if !stderrors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) != 1 ||
		!mongo.IsDuplicateKeyError(bwe.WriteErrors[0]) {
		return false, wrap("redeem authorization code", err)
	}
	switch bwe.WriteErrors[0].Index {
	case 0:
		return false, nil // spent before: nothing inserted
	case 2:
		// The family had a document: insert first, check second, see
		// tombstoned.
	default:
		return false, wrap("redeem authorization code", err) // the token's own key
	}
	dead, err := m.tombstoned(ctx, d.GrantID)
	if err != nil {
		return false, wrap("redeem authorization code", err)
	}
	if !dead {
		return true, nil
	}
	if _, err := m.tokens.DeleteOne(ctx, bson.D{{Key: "_id", Value: d.ID}}); err != nil {
		return false, wrap("redeem authorization code", err)
	}
	return false, nil
}

// codeClaim is the claim of code c in the tokens collection. It is kept
// until an hour after the later of now and the code's expiry: unlike the
// claims of tokens (see claimLifetime) it is the durable record of the
// code's redemption, so it must outlive the code.
func (m *Model) codeClaim(c *oauth2server.AuthorizationCode) codeClaimDoc {
	id := codeClaimPrefix + oauth2server.TokenDigest(c.Code)
	exp := m.opts.Now()
	if c.ExpiresAt.After(exp) {
		exp = c.ExpiresAt
	}
	return codeClaimDoc{ID: id, Refresh: id, ClientID: c.ClientID, UserID: c.UserID, Revoked: true,
		ExpiresAt: exp.Add(claimLifetime)}
}
