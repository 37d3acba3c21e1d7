package oauth2server

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/form"
)

var (
	errExchangeSubjectMissing = oerrors.ErrInvalidRequest.WithDescription("subject_token and subject_token_type are required.")
	errExchangeActorPair      = oerrors.ErrInvalidRequest.WithDescription("actor_token and actor_token_type must be sent together.")
	errExchangeRequestedType  = oerrors.ErrInvalidRequest.WithDescription("The requested_token_type is not supported.")
	errExchangeTargets        = oerrors.ErrInvalidTarget.WithDescription("Tokens are issued for one audience or resource at a time.")
	errExchangeResource       = oerrors.ErrInvalidTarget.WithDescription("A resource must be an absolute URI without fragment.")
	errExchangeClientToken    = oerrors.ErrInvalidRequest.WithDescription("A subject_token without a user may be exchanged only by the client it was issued to.")
	errExchangeMayAct         = oerrors.ErrInvalidRequest.WithDescription("The actor is not allowed to act for the subject (may_act).")
	errExchangeDenied         = oerrors.ErrInvalidRequest.WithDescription("The token exchange is not permitted.")
	errExchangeAudience       = oerrors.ErrInvalidTarget.WithDescription("The authorization server will not issue a token for the requested target.")
	errExchangeScope          = oerrors.ErrInvalidScope.WithDescription("The requested scope exceeds the subject token's scope.")
	errExchangeNoScope        = oerrors.ErrInvalidScope.WithDescription("No scope of the subject token may be granted to this client.")
	errExchangeRefresh        = oerrors.ErrInvalidRequest.WithDescription("Refresh tokens are not issued for this exchange.")
	errExchangeChain          = oerrors.ErrInvalidRequest.WithDescription("The delegation chain is too long.")
)

// maxActorDepth bounds the act chain of a token: each exchange
// by delegation nests one more actor.
const maxActorDepth = 8

// grantTokenExchange implements token exchange (RFC 8693): a client that
// authenticated presents a subject token, and optionally an actor
// token, each validated by the rules of its type, and gets
// a new token if the model's policy allows it.
//
//   - With an actor token the exchange is a delegation: the new token's
//     act claim names the actor and nests the subject token's own act
//     . Without one it is an impersonation: the new token stands
//     for the subject, and keeps the subject token's act, so an
//     impersonation never hides an earlier delegation. A subject token
//     carrying may_act admits only the actor it names, or the client when
//     there is no actor token.
//   - One target per token: audience and resource values naming more
//     than one target are invalid_target; the policy must name the one
//     requested as the audience.
//   - Never wider: the scope stays within the subject token's
//     (unless the policy says WiderScope) and within ValidateScope; the
//     access token expires no later than the subject token; a refresh
//     token only with requested_token_type refresh_token and the policy's
//     leave.
//   - The new token joins the grant family of the subject token when that
//     is an access token of this server with a stored record, so revoking
//     the subject's family (a revoked refresh token, a replayed code)
//     revokes what was exchanged from it; tokens of other issuers start a
//     new family.
func (s *Server) grantTokenExchange(ctx context.Context, req *TokenRequest) (*issue, error) {
	p := req.Params
	subjectRaw, subjectType := p["subject_token"], p["subject_token_type"]
	if subjectRaw == "" || subjectType == "" {
		return nil, errExchangeSubjectMissing
	}
	actorRaw, actorType := p["actor_token"], p["actor_token_type"]
	if (actorRaw == "") != (actorType == "") {
		return nil, errExchangeActorPair
	}
	requested := p["requested_token_type"]
	switch requested {
	case "":
		requested = TokenTypeAccessToken
	case TokenTypeAccessToken, TokenTypeRefreshToken:
	case TokenTypeJWT:
		if !s.jwtAccess {
			return nil, errExchangeRequestedType
		}
	default:
		return nil, errExchangeRequestedType
	}
	target, err := exchangeTarget(p)
	if err != nil {
		return nil, err
	}
	subject, err := s.exchangedToken(ctx, req.Client, subjectRaw, subjectType, true)
	if err != nil {
		return nil, err
	}
	if subject.UserID == "" && subject.ClientID != req.Client.ID {
		return nil, errExchangeClientToken
	}
	var actor *ExchangedToken
	if actorRaw != "" {
		if actor, err = s.exchangedToken(ctx, req.Client, actorRaw, actorType, false); err != nil {
			return nil, err
		}
	}
	if subject.MayAct != nil && !s.mayAct(subject.MayAct, actor, req.Client) {
		return nil, errExchangeMayAct
	}
	xreq := &TokenExchangeRequest{Client: req.Client, Subject: subject, Actor: actor, Target: target,
		Scope: slices.Clone(req.Scope), RequestedTokenType: requested}
	dec, err := s.assert.exchange.AuthorizeTokenExchange(ctx, xreq)
	if err != nil {
		if e := oerrors.From(err); !oerrors.IsServerError(e) {
			return nil, e
		}
		return nil, storeError("AuthorizeTokenExchange", err)
	}
	if dec == nil {
		return nil, errExchangeDenied
	}
	if target != "" && dec.Audience != target {
		return nil, errExchangeAudience
	}
	var user *User
	if subject.UserID != "" {
		user = &User{ID: subject.UserID}
	}
	scope, err := s.exchangeScope(ctx, req, user, subject, dec)
	if err != nil {
		return nil, err
	}
	refresh := requested == TokenTypeRefreshToken
	if refresh && (!dec.RefreshToken || !s.canRefresh(req.Client)) {
		return nil, errExchangeRefresh
	}
	act := subject.Actor.Clone()
	if actor != nil {
		act = &Actor{Subject: actor.Subject, Issuer: actor.Issuer, ClientID: actor.ClientID, Actor: act}
	}
	if act.depth() > maxActorDepth {
		return nil, errExchangeChain
	}
	is := &issue{user: user, userID: subject.UserID, scope: scope, refresh: refresh, audience: dec.Audience,
		actor: act, notAfter: subject.ExpiresAt, issuedType: requested}
	if dec.Audience == s.opts.Audience {
		is.audience = ""
	}
	if subject.Token != nil {
		is.grantID = subject.Token.GrantID
	}
	return is, nil
}

// exchangeTarget returns the one target that the audience and resource
// parameters name, "" when they name none. A resource is an
// absolute URI without fragment (RFC 8707 §2).
func exchangeTarget(p map[string]string) (string, error) {
	var target string
	add := func(v string) error {
		if target != "" && target != v {
			return errExchangeTargets
		}
		target = v
		return nil
	}
	for _, r := range form.Values(p, "resource") {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || strings.Contains(r, "#") {
			return "", errExchangeResource
		}
		if err := add(r); err != nil {
			return "", err
		}
	}
	for _, a := range form.Values(p, "audience") {
		if err := add(a); err != nil {
			return "", err
		}
	}
	return target, nil
}

// mayAct reports whether the would-be actor, the actor token's subject or
// else the client, is the one may_act names (RFC 8693 §4.4). An empty iss
// in either means this server.
func (s *Server) mayAct(may *Actor, actor *ExchangedToken, client *Client) bool {
	sub, iss := client.ID, ""
	if actor != nil {
		sub, iss = actor.Subject, actor.Issuer
	}
	norm := func(i string) string {
		if i == "" {
			return s.opts.Issuer
		}
		return i
	}
	return may.Subject == sub && (may.Issuer == "" || norm(may.Issuer) == norm(iss))
}

// exchangeScope is the scope of the new token: the policy's, else
// the requested one, else the subject token's within the client's
// registered scopes; never beyond the subject token's unless the policy
// allows it; then through ValidateScope. A subject token without scope
// yields a token without scope.
func (s *Server) exchangeScope(ctx context.Context, req *TokenRequest, user *User, subject *ExchangedToken, dec *TokenExchangeDecision) ([]string, error) {
	var scope []string
	switch {
	case dec.Scope != nil:
		scope = dec.Scope
	case req.Scope != nil:
		scope = req.Scope
	default:
		for _, sc := range subject.Scope {
			if slices.Contains(req.Client.Scopes, sc) {
				scope = append(scope, sc)
			}
		}
		if len(subject.Scope) > 0 && len(scope) == 0 {
			return nil, errExchangeNoScope
		}
	}
	if !dec.WiderScope && !ScopeCovers(subject.Scope, scope) {
		return nil, errExchangeScope
	}
	if len(scope) == 0 {
		return []string{}, nil
	}
	return s.validateScope(ctx, req.Client, user, scope)
}

// exchangeResponse completes the answer of a token exchange (RFC 8693
// §2.2.1, R-158): issued_token_type, and for a refresh token the token
// itself in access_token with token_type N_A.
func exchangeResponse(resp *TokenResponse, tok *Token, issuedType string) {
	resp.IssuedTokenType = issuedType
	if issuedType != TokenTypeRefreshToken {
		return
	}
	resp.AccessToken, resp.RefreshToken, resp.TokenType, resp.ExpiresIn = tok.RefreshToken, "", "N_A", 0
	if d := tok.RefreshTokenExpiresAt.Sub(tok.IssuedAt); d > 0 {
		resp.ExpiresIn = int64((d + time.Second - 1) / time.Second)
	}
}
