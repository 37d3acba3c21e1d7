package oauth2server

import (
	"context"
	"time"
)

// RevokedJTIModel is the deny-list of revoked JWT access tokens. It is
// required when [Options.JWT] is set: a JWT is
// verified locally, so without a deny-list it could not be revoked
// (RFC 7009 §2, decision 8 of docs/requirements.md). [Server.ValidateAccessToken] and
// introspection consult it once per JWT.
//
// Contract: IsJTIRevoked reports true for
//   - every jti passed to RevokeJTI, and
//   - the [Token.ID] of every token the model marks revoked: by
//     [RefreshTokenModel.RevokeToken], by [GrantModel.RevokeGrant]
//     (the whole family, including tokens saved later for that GrantID), and
//     by SaveToken into an already revoked grant.
//
// The second rule is what makes family revocation (a replayed code, a reused
// refresh token, a revoked refresh token) reach JWT access tokens without
// putting the grant identifier into the token. Entries may be dropped once
// the token's expiry has passed: an expired JWT is rejected anyway.
type RevokedJTIModel interface {
	// RevokeJTI puts jti on the deny-list until expiresAt.
	RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error
	// IsJTIRevoked reports whether jti is on the deny-list.
	IsJTIRevoked(ctx context.Context, jti string) (bool, error)
}
