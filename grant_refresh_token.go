package oauth2server

import (
	"context"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

var (
	errNoRefreshToken  = oerrors.ErrInvalidRequest.WithDescription("The refresh_token parameter is missing.")
	errBadRefreshToken = oerrors.ErrInvalidGrant.WithDescription("The refresh token is invalid, expired, or revoked.")
	errRefreshScope    = oerrors.ErrInvalidScope.WithDescription("The requested scope exceeds the scope of the refresh token.")
)

// grantRefreshToken implements RFC 6749 §6 with rotation and reuse
// detection (RFC 9700 §4.14.2): each refresh revokes the presented token
// and issues a new one in the same grant family; presenting a revoked
// refresh token revokes the whole family.
func (s *Server) grantRefreshToken(ctx context.Context, req *TokenRequest) (*issue, error) {
	rt := req.Params["refresh_token"]
	if rt == "" {
		return nil, errNoRefreshToken
	}
	tok, err := s.refresh.GetRefreshToken(ctx, rt)
	if err != nil {
		return nil, storeError("GetRefreshToken", err)
	}
	// A token of another client is answered exactly like an unknown one
	// (RFC 6749 §10.4: the binding to the client is verified).
	if tok == nil || tok.ClientID != req.Client.ID || tok.RefreshToken == "" {
		return nil, errBadRefreshToken
	}
	if tok.Revoked {
		// Reuse of a rotated or revoked refresh token: someone else may
		// hold the family. Revoke it all.
		if err := s.families.RevokeGrant(ctx, tok.GrantID); err != nil {
			return nil, storeError("RevokeGrant", err)
		}
		if s.recording() {
			s.Record(ctx, Event{Kind: EventRefreshReuse, ClientID: tok.ClientID, UserID: tok.UserID, GrantID: tok.GrantID,
				TokenID: TokenDigest(rt)})
		}
		return nil, errBadRefreshToken
	}
	if !tok.RefreshTokenExpiresAt.IsZero() && !s.now().Before(tok.RefreshTokenExpiresAt) {
		return nil, errBadRefreshToken
	}
	if tok.DPoPJKT != "" && req.Client.IsPublic() && tok.DPoPJKT != req.DPoPJKT {
		// RFC 9449 §5: a public client's refresh token is bound to the
		// DPoP key it was issued with; a confidential client's is
		// bound by its authentication.
		return nil, errDPoPRefreshKey
	}
	granted := tok.RefreshTokenScope
	if granted == nil {
		granted = tok.Scope
	}
	scope := granted
	if req.Scope != nil {
		if !ScopeCovers(granted, req.Scope) {
			return nil, errRefreshScope
		}
		scope = req.Scope
	}
	grantedResources := tok.RefreshTokenResources
	if grantedResources == nil {
		grantedResources = tok.Resources
	}
	audience, err := s.grantResources(ctx, req.Client, grantedResources, req.Resources)
	if err != nil {
		return nil, err // one outside the grant is invalid_target
	}
	if len(grantedResources) == 0 {
		grantedResources = audience
	}
	user := &User{ID: tok.UserID}
	if tok.UserID == "" {
		user = nil
	}
	is := &issue{user: user, userID: tok.UserID, scope: scope, grantID: tok.GrantID, extra: tok.Extra,
		openID: tok.OpenID.Clone(), audience: tok.Audience, actor: tok.Actor.Clone(),
		resources: audience, grantResources: grantedResources, resourcesSet: true}
	if len(scope) != len(granted) {
		is.refreshScope = granted
	}
	rotate := !s.opts.DisableRefreshTokenRotation || req.Client.IsPublic()
	if !rotate {
		// The client keeps its refresh token; only a new access token is
		// issued in the same family (RFC 6749 §6 "MAY issue a new refresh
		// token").
		return is, nil
	}
	revoked, err := s.refresh.RevokeToken(ctx, tok)
	if err != nil {
		return nil, storeError("RevokeToken", err)
	}
	if !revoked {
		// Another request rotated this token first: the token has been
		// presented twice, which is reuse. Revoke the family.
		if err := s.families.RevokeGrant(ctx, tok.GrantID); err != nil {
			return nil, storeError("RevokeGrant", err)
		}
		if s.recording() {
			s.Record(ctx, Event{Kind: EventRefreshReuse, ClientID: tok.ClientID, UserID: tok.UserID, GrantID: tok.GrantID,
				TokenID: TokenDigest(rt)})
		}
		return nil, errBadRefreshToken
	}
	if s.recording() {
		s.Record(ctx, Event{Kind: EventRefreshRotated, ClientID: tok.ClientID, UserID: tok.UserID, GrantID: tok.GrantID,
			TokenID: TokenDigest(rt)})
	}
	is.refresh = true
	return is, nil
}
