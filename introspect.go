package oauth2server

import (
	"context"
	"net/http"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

var errNoIntrospect = oerrors.ErrUnauthorizedClient.
	WithDescription("The client is not authorized to use the introspection endpoint.").
	WithStatus(http.StatusForbidden)

// IntrospectionResponse is the answer of the introspection endpoint
// (RFC 7662 §2.2). An inactive token is exactly {"active":false}: every
// other member is omitted (RFC 7662 §2.2, §4).
type IntrospectionResponse struct {
	Active   bool   `json:"active"`
	Scope    string `json:"scope,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	// Username is left empty by oauth2server: a Token stores the user's id
	// (Subject), not the login name. Fill it before writing if needed.
	Username string `json:"username,omitempty"`
	// TokenType is "Bearer" for access tokens ("DPoP" for DPoP-bound
	// ones) and empty for refresh tokens, which have no token type (RFC
	// 6749 §5.1): a resource server must never accept a response without
	// token_type "Bearer" or "DPoP".
	TokenType string `json:"token_type,omitempty"`
	ExpiresAt int64  `json:"exp,omitempty"`
	IssuedAt  int64  `json:"iat,omitempty"`
	NotBefore int64  `json:"nbf,omitempty"`
	// Subject is the user id, or the client id when no user is involved.
	Subject string `json:"sub,omitempty"`
	// Audience is the token's audience: its resources (RFC 8707), the
	// target of a token exchange (RFC 8693), or the default audience
	// ([Options.Audience]) when it has neither.
	Audience Audience `json:"aud,omitempty"`
	Issuer   string   `json:"iss,omitempty"`
	JTI      string   `json:"jti,omitempty"`
	// Act is who acts for the token's subject, the "act" claim of a
	// delegation (RFC 8693 §4.1, R-159).
	Act *Actor `json:"act,omitempty"`
	// Confirmation is the cnf of a DPoP-bound access token, whose
	// TokenType is then "DPoP" (RFC 9449 §6.2).
	Confirmation *Confirmation `json:"cnf,omitempty"`

	// Token is the introspected token; nil when inactive. Not serialized.
	Token *Token `json:"-"`
}

// inactive is the whole answer for a token that is not active.
func inactive() *IntrospectionResponse { return &IntrospectionResponse{Active: false} }

// Introspect handles an introspection request (RFC 7662). The caller must
// authenticate as a confidential client with [Client.Introspect] set: a
// public client or bad credentials are invalid_client (401), a
// confidential client without the permission is unauthorized_client (403).
//
// It performs every check of RFC 7662 §4 — signature, typ, iss, aud and
// expiry of JWTs, the jti deny-list, revocation and expiry of stored
// tokens — on the server's own clock without leeway. Visibility: a caller
// sees every access token (resource servers introspect tokens of other
// clients), but a refresh token only if it was issued to the caller itself,
// since refresh tokens are never presented to resource servers. Anything
// inactive, unknown or not visible is exactly {"active":false}, which is
// not an error (RFC 7662 §2.3). The hint orders the search and is otherwise
// ignored. Responses must carry Cache-Control: no-store.
func (s *Server) Introspect(r *http.Request) (*IntrospectionResponse, error) {
	ctx := s.withAddress(r)
	p, err := s.readForm(r)
	if err != nil {
		return nil, err
	}
	client, authenticated, err := s.authenticateClient(ctx, r, p)
	if err != nil {
		return nil, err
	}
	if err := s.profileClient(client, authenticated); err != nil {
		return nil, err
	}
	if !authenticated {
		// RFC 7662 §2.1: the endpoint requires authentication, which a
		// public client cannot provide (its client_id is not a credential).
		return nil, errNoClient
	}
	if !client.Introspect {
		return nil, errNoIntrospect
	}
	resp, err := s.introspect(ctx, client, p["token"], p["token_type_hint"])
	if err == nil {
		active := resp.Active
		if s.recording() {
			s.Record(ctx, Event{Kind: EventTokenIntrospected, ClientID: client.ID, Active: &active})
		}
	}
	return resp, err
}

// IntrospectToken introspects token from Go code, as the authorization
// server itself: the answer of [Server.Introspect] without an HTTP request
// or a calling client, for applications that check a token they were
// given (node's introspectToken). Every token is visible, refresh tokens of
// any client included, so never hand the answer of a refresh token to a
// client other than its own. hint is "", [HintAccessToken] or
// [HintRefreshToken]; it orders the search. An empty token is
// invalid_request; an inactive, unknown or expired one is {"active":false}
// and no error.
func (s *Server) IntrospectToken(ctx context.Context, token, hint string) (*IntrospectionResponse, error) {
	return s.introspect(ctx, nil, token, hint)
}

// introspect looks token up for caller (nil: the server itself, who sees
// every token).
func (s *Server) introspect(ctx context.Context, caller *Client, token, hint string) (*IntrospectionResponse, error) {
	if token == "" {
		return nil, errNoToken
	}
	order := []func(context.Context, *Client, string) (*IntrospectionResponse, error){
		s.introspectAccessToken, s.introspectRefreshToken,
	}
	if hint == HintRefreshToken {
		order[0], order[1] = order[1], order[0]
	}
	for _, look := range order {
		resp, err := look(ctx, caller, token)
		if err != nil || resp != nil {
			return resp, err
		}
	}
	return inactive(), nil
}

// introspectAccessToken returns the answer for an access token, inactive
// when it is a known but dead token, or nil when token is no access token.
func (s *Server) introspectAccessToken(ctx context.Context, _ *Client, token string) (*IntrospectionResponse, error) {
	if s.jwtAccess && looksLikeJWT(token) {
		c, err := s.parseJWTAccessToken(token, 0)
		if err != nil {
			if oerrors.IsServerError(err) {
				return nil, err
			}
			return nil, nil // not ours, forged or expired: keep looking
		}
		// An audience this server never issues is no token of
		// ours; a token it exchanged for another resource server is
		// active, with its aud for the caller to check.
		if ok, err := s.issuedAudience(ctx, token, c); err != nil || !ok {
			return nil, err
		}
		revoked, err := s.jtis.IsJTIRevoked(ctx, c.ID)
		if err != nil {
			return nil, storeError("IsJTIRevoked", err)
		}
		if revoked {
			return inactive(), nil
		}
		tok, err := claimsToken(token, c, s.opts.Audience)
		if err != nil {
			return inactive(), nil
		}
		return s.activeAccess(tok), nil
	}
	if s.accessTokens == nil {
		return nil, nil
	}
	tok, err := s.accessTokens.GetAccessToken(ctx, token)
	if err != nil {
		return nil, storeError("GetAccessToken", err)
	}
	if tok == nil {
		return nil, nil
	}
	if tok.Revoked || !s.now().Before(tok.AccessTokenExpiresAt) {
		return inactive(), nil
	}
	if tok.ID != "" && s.jtis != nil {
		// A JWT stored as a record: its deny-list entry counts too.
		revoked, err := s.jtis.IsJTIRevoked(ctx, tok.ID)
		if err != nil {
			return nil, storeError("IsJTIRevoked", err)
		}
		if revoked {
			return inactive(), nil
		}
	}
	return s.activeAccess(tok), nil
}

// introspectRefreshToken returns the answer for a refresh token, or nil
// when token is no refresh token.
func (s *Server) introspectRefreshToken(ctx context.Context, caller *Client, token string) (*IntrospectionResponse, error) {
	if s.refresh == nil {
		return nil, nil
	}
	tok, err := s.refresh.GetRefreshToken(ctx, token)
	if err != nil {
		return nil, storeError("GetRefreshToken", err)
	}
	if tok == nil || tok.RefreshToken == "" {
		return nil, nil
	}
	if tok.Revoked || (caller != nil && tok.ClientID != caller.ID) ||
		(!tok.RefreshTokenExpiresAt.IsZero() && !s.now().Before(tok.RefreshTokenExpiresAt)) {
		return inactive(), nil
	}
	scope := tok.RefreshTokenScope
	if scope == nil {
		scope = tok.Scope
	}
	resp := s.describe(tok, scope)
	if !tok.RefreshTokenExpiresAt.IsZero() {
		resp.ExpiresAt = tok.RefreshTokenExpiresAt.Unix()
	}
	resp.JTI = "" // the ID names the access token
	return resp, nil
}

func (s *Server) activeAccess(tok *Token) *IntrospectionResponse {
	resp := s.describe(tok, tok.Scope)
	resp.TokenType = "Bearer"
	if tok.DPoPJKT != "" {
		// the resource server learns the key it must see proved.
		resp.TokenType = DPoPScheme
		resp.Confirmation = &Confirmation{JKT: tok.DPoPJKT}
	}
	resp.ExpiresAt = tok.AccessTokenExpiresAt.Unix()
	return resp
}

// describe fills the members common to access and refresh tokens.
func (s *Server) describe(tok *Token, scope []string) *IntrospectionResponse {
	sub := tok.UserID
	if sub == "" {
		sub = tok.ClientID
	}
	resp := &IntrospectionResponse{
		Active:   true,
		Scope:    FormatScope(scope),
		ClientID: tok.ClientID,
		Subject:  sub,
		Audience: s.tokenAudience(tok),
		Issuer:   s.opts.Issuer,
		JTI:      tok.ID,
		Act:      tok.Actor,
		Token:    tok,
	}
	if !tok.IssuedAt.IsZero() {
		resp.IssuedAt = tok.IssuedAt.Unix()
		resp.NotBefore = resp.IssuedAt
	}
	return resp
}
