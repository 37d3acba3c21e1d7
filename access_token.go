package oauth2server

import "context"

// ValidateAccessToken checks an access token presented to a protected
// resource and returns what it grants. A JWT (when the server issues JWT
// access tokens) is verified locally and checked against the jti deny-list
// ([RevokedJTIModel]); any other token is looked up through
// [AccessTokenModel].
//
// A missing, unknown, expired, revoked or invalid token is
// errors.ErrInvalidToken with a fixed description saying which (RFC 6750
// §3.1); a model fault is server_error.
func (s *Server) ValidateAccessToken(ctx context.Context, token string) (*Token, error) {
	if token == "" {
		return nil, errTokenMissing
	}
	if s.jwt != nil && looksLikeJWT(token) {
		return s.verifyJWTAccessToken(ctx, token)
	}
	if s.accessTokens == nil {
		return nil, errTokenUnknown
	}
	tok, err := s.accessTokens.GetAccessToken(ctx, token)
	if err != nil {
		return nil, storeError("GetAccessToken", err)
	}
	switch {
	case tok == nil:
		return nil, errTokenUnknown
	case tok.Revoked:
		return nil, errTokenRevoked
	case !s.now().Before(tok.AccessTokenExpiresAt):
		return nil, errTokenExpired
	}
	return tok, nil
}
