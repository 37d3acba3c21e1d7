package oauth2server

import (
	"context"
	"strings"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// extensionGrant runs a registered extension grant (RFC 6749 §4.5) and
// passes its scope through ValidateScope like every built-in grant.
func (s *Server) extensionGrant(ctx context.Context, h ExtensionGrant, req *TokenRequest) (*issue, error) {
	// The parsed values share the memory of the request body, which may
	// hold a password or a client secret: the grant gets copies, so that
	// whatever it keeps does not keep the whole body alive.
	params := make(map[string]string, len(req.Params))
	for k, v := range req.Params {
		params[strings.Clone(k)] = strings.Clone(v)
	}
	cp := *req
	cp.Params = params
	req = &cp
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
