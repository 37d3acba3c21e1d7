package oauth2server

import (
	"context"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// maxAccessTokenBytes bounds the access tokens the Server looks at: opaque
// tokens are 43 bytes, JWTs about a kilobyte, and a JWT with a client's
// hundreds of scopes still fits. It equals the default body cap, which
// bounds tokens sent to introspection and revocation anyway; a header
// is bounded only by the HTTP server (1 MiB by default in net/http).
const maxAccessTokenBytes = DefaultMaxBodyBytes

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
	return s.ValidateAccessTokenFor(ctx, token, "")
}

// ValidateAccessTokenFor is [Server.ValidateAccessToken] at the resource
// audience, a resource indicator (RFC 8707): the token must be for it. A
// token requested for resources is valid at those only; any other token
// at the default audience ([Options.Audience]) only, which audience ""
// stands for. A token for another audience is invalid_token.
func (s *Server) ValidateAccessTokenFor(ctx context.Context, token, audience string) (*Token, error) {
	if token == "" {
		return nil, errTokenMissing
	}
	if len(token) > maxAccessTokenBytes {
		// Longer than any token this server issues: refuse before a JWT
		// header and claims are decoded or the store is asked.
		return nil, errTokenUnknown
	}
	if s.jwtAccess && looksLikeJWT(token) {
		return s.verifyJWTAccessToken(ctx, token, audience)
	}
	if s.accessTokens == nil {
		if s.jwtAccess {
			// A server issuing JWTs knows no other access tokens.
			return nil, errTokenUnknown
		}
		// Resource protection cannot work without a way to check opaque
		// tokens: fail closed, with a logged cause naming the interface.
		return nil, oerrors.ServerError(errorf("ValidateAccessToken needs AccessTokenModel (GetAccessToken), which the model does not implement"))
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
	case tok.AccessTokenExpiresAt.IsZero():
		return nil, oerrors.ServerError(errorf("GetAccessToken returned a token without AccessTokenExpiresAt"))
	case !s.now().Before(tok.AccessTokenExpiresAt):
		return nil, errTokenExpired
	}
	// Restricted to resources (RFC 8707) or exchanged for another resource
	// server (RFC 8693): valid there only, as a JWT's aud would say.
	if err := s.checkAudience(tok, nil, audience); err != nil {
		return nil, err
	}
	return tok, nil
}
