package mongomodel

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// RevokeJTI implements [oauth2server.RevokedJTIModel]: jti stays on the
// deny-list until expiresAt; revoking it again never shortens the entry.
func (m *Model) RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error {
	if jti == "" {
		return ctx.Err()
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	if err := m.denyList(ctx, []jtiDoc{{ID: jti, ExpiresAt: expiresAt}}); err != nil {
		return wrap("revoke jti", err)
	}
	return nil
}

// IsJTIRevoked implements [oauth2server.RevokedJTIModel]. It reports the
// IDs of the token records the model revoked too (RevokeToken, RevokeGrant,
// SaveToken into a revoked grant). An entry past its expiry is reported
// false: an expired JWT is refused anyway, and the entry only waits for the
// TTL index or DeleteExpired.
func (m *Model) IsJTIRevoked(ctx context.Context, jti string) (bool, error) {
	if jti == "" {
		return false, ctx.Err()
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d jtiDoc
	found, err := findOne(ctx, m.jtis,
		bson.D{{Key: "_id", Value: jti}, {Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: m.opts.Now()}}}}, &d,
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return false, wrap("is jti revoked", err)
	}
	return found, nil
}

// denyList puts the entries on the deny-list in one round trip, each with
// the later of its stored and its given expiry ($max).
//
// An upsert that races another upsert of the same new jti can fail with a
// duplicate key (on MongoDB as on FerretDB); the entry then exists, and
// the retry's $max applies to it. On FerretDB a $max racing another $max
// of the same jti may keep the earlier expiry: both are expiries of that
// jti's token, so the entry still lasts as long as the token.
func (m *Model) denyList(ctx context.Context, entries []jtiDoc) error {
	if len(entries) == 0 {
		return nil
	}
	writes := make([]mongo.WriteModel, 0, len(entries))
	for _, e := range entries {
		writes = append(writes, mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: e.ID}}).
			SetUpdate(bson.D{{Key: "$max", Value: bson.D{{Key: "expiresAt", Value: e.ExpiresAt}}}}).
			SetUpsert(true))
	}
	return bulkRetry(ctx, m.jtis, writes)
}

// tokenJTI is the deny-list entry of a token record: its jti, kept until
// the access token expires.
func tokenJTI(d *tokenDoc) []jtiDoc {
	if d.JTI == "" {
		return nil
	}
	return []jtiDoc{{ID: d.JTI, ExpiresAt: d.AccessExpiresAt}}
}
