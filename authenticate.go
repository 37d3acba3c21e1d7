package oauth2server

import (
	"context"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

var (
	errNoToken      = oerrors.ErrInvalidToken.WithDescription("The access token is missing.")
	errTokenInvalid = oerrors.ErrInvalidToken.WithDescription("The access token is invalid, expired, or revoked.")
)

// ValidateAccessToken verifies an access token presented to a protected
// resource (RFC 6750) and returns it. An unknown, expired or revoked token
// is an invalid_token error (401); a storage fault is server_error.
//
// Opaque tokens are looked up through [AccessTokenModel]. If the model does
// not implement it, every call fails with server_error and a logged cause
// naming the missing interface: resource protection cannot work without a
// way to check tokens, and failing closed beats a panic.
func (s *Server) ValidateAccessToken(ctx context.Context, accessToken string) (*Token, error) {
	if accessToken == "" {
		return nil, errNoToken
	}
	// Self-contained (JWT) access tokens are verified locally here, before
	// the model lookup, once the server issues them.
	if s.accessTokens == nil {
		return nil, oerrors.ServerError(errorf("ValidateAccessToken needs AccessTokenModel (GetAccessToken), which the model does not implement"))
	}
	tok, err := s.accessTokens.GetAccessToken(ctx, accessToken)
	if err != nil {
		return nil, storeError("GetAccessToken", err)
	}
	if tok == nil || tok.Revoked {
		return nil, errTokenInvalid
	}
	if tok.AccessTokenExpiresAt.IsZero() {
		return nil, oerrors.ServerError(errorf("GetAccessToken returned a token without AccessTokenExpiresAt"))
	}
	if !s.now().Before(tok.AccessTokenExpiresAt) {
		return nil, errTokenInvalid
	}
	return tok, nil
}
