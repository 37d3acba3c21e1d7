package mongomodel

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

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
// of concurrent calls for one code exactly one reports true (see claim).
// One round trip.
func (m *Model) RevokeAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode) (bool, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	return m.claim(ctx, m.codes, "c:", oauth2server.TokenDigest(c.Code), "revoke authorization code")
}
