package mongomodel

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// SetUserClaims sets the OpenID Connect claims of the user with the given
// ID (OIDC Core §5.1), replacing those set before. They live in the user's
// document, so [Model.GetUserClaims] is one read. An unknown user is an
// error.
func (m *Model) SetUserClaims(ctx context.Context, userID string, claims map[string]any) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	if claims == nil {
		claims = map[string]any{}
	}
	res, err := m.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: userID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "claims", Value: claims}}}})
	if err != nil {
		return wrap("set user claims", err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("mongomodel: set user claims: no user with id %q", userID)
	}
	return nil
}

// GetUserClaims implements [oauth2server.UserClaimsModel]: the claims set
// with SetUserClaims, an empty map for a user without claims, nil for an
// unknown user.
func (m *Model) GetUserClaims(ctx context.Context, userID string) (map[string]any, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d userDoc
	found, err := findOne(ctx, m.users, bson.D{{Key: "_id", Value: userID}}, &d)
	if err != nil || !found {
		return nil, wrapIf("get user claims", err)
	}
	if d.Claims == nil {
		return map[string]any{}, nil
	}
	return d.Claims, nil
}
