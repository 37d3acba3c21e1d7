package oauth2server

import (
	"context"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// extensionGrant runs a registered extension grant (RFC 6749 §4.5) and
// passes its scope through ValidateScope like every built-in grant.
func (s *Server) extensionGrant(ctx context.Context, h ExtensionGrant, req *TokenRequest) (*issue, error) {
	res, err := h.HandleGrant(ctx, req)
	if err != nil {
		if e := oerrors.From(err); !oerrors.IsServerError(e) {
			return nil, e
		}
		return nil, storeError("extension grant "+req.GrantType, err)
	}
	if res == nil {
		return nil, oerrors.ErrInvalidGrant
	}
	scope, err := s.validateScope(ctx, req.Client, res.User, res.Scope)
	if err != nil {
		return nil, err
	}
	return &issue{user: res.User, scope: scope, refresh: res.IssueRefreshToken, extra: res.Extra}, nil
}
