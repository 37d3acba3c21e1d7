package oauth2server

import (
	"context"
	"slices"
	"time"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// GrantTokenExchange is the grant type of token exchange (RFC 8693 §2.1).
const GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

// Token type identifiers of RFC 8693 §3.
const (
	TokenTypeAccessToken  = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
	TokenTypeIDToken      = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeJWT          = "urn:ietf:params:oauth:token-type:jwt"
)

// Actor is the "act" (actor) claim of RFC 8693 §4.1: who acts on behalf of
// the token's subject, a delegation. Actor is the previous actor of a
// chain, nested as the claim nests it (the outermost is the current one).
// It holds identity claims only, never exp, nbf or aud.
type Actor struct {
	// Subject is the actor's "sub": a user ID, or a client ID when the
	// actor is a client.
	Subject string `json:"sub,omitempty"`
	// Issuer is the "iss" of the actor's identity when it is not this
	// server.
	Issuer string `json:"iss,omitempty"`
	// ClientID is the client the actor used, when known.
	ClientID string `json:"client_id,omitempty"`
	// Actor is the prior actor of a chain, or nil.
	Actor *Actor `json:"act,omitempty"`
}

// Clone returns a deep copy of a (nil for nil), for models that copy what
// they store.
func (a *Actor) Clone() *Actor {
	if a == nil {
		return nil
	}
	c := *a
	c.Actor = a.Actor.Clone()
	return &c
}

// depth is the number of actors in the chain a starts.
func (a *Actor) depth() int {
	n := 0
	for ; a != nil; a = a.Actor {
		n++
	}
	return n
}

// ExchangedToken is a subject or actor token of a token exchange, once
// validated by the rules of its type.
type ExchangedToken struct {
	// Type is the token type identifier sent (subject_token_type,
	// actor_token_type), e.g. [TokenTypeAccessToken].
	Type string
	// Issuer is the "iss" of a JWT of a [TrustedIssuer]; empty for the
	// tokens of this server.
	Issuer string
	// Subject is the token's "sub": for this server's tokens the user ID,
	// or the client ID when the token has no user.
	Subject string
	// UserID is the local user the token stands for: the token's user, or
	// the user the model maps a trusted issuer's subject to. Empty for a
	// token of a client alone.
	UserID string
	// ClientID is the client the token was issued to (this server's
	// tokens, the audience of its ID tokens), or the "client_id" claim of
	// a trusted issuer's JWT.
	ClientID string
	// Scope is the token's scope.
	Scope []string
	// Audience is the token's audience, when known.
	Audience []string
	// ExpiresAt is when the token expires.
	ExpiresAt time.Time
	// Actor is who acts in the token already ("act"), nil when nobody.
	Actor *Actor
	// MayAct is who may act for its subject ("may_act", RFC 8693 §4.4),
	// nil when the token does not say.
	MayAct *Actor
	// Token is the stored record of an access token of this server, nil
	// for other tokens.
	Token *Token
}

// TokenExchangeRequest is a token exchange whose client authenticated and
// whose subject (and actor) token were validated, for the policy to
// decide ([TokenExchangeModel]).
type TokenExchangeRequest struct {
	// Client is the authenticated client asking.
	Client *Client
	// Subject is the subject token: whom the new token is about.
	Subject *ExchangedToken
	// Actor is the actor token, nil when none was sent: with one, the
	// exchange is a delegation (the new token says who acts), without,
	// an impersonation (the new token stands for the subject alone).
	Actor *ExchangedToken
	// Target is the one audience or resource value the request names, ""
	// when it names none. oauth2server issues one audience per token, so
	// a request naming several is refused with invalid_target before the
	// policy is asked.
	Target string
	// Scope is the requested scope, nil when the request had none.
	Scope []string
	// RequestedTokenType is [TokenTypeAccessToken] (the default),
	// [TokenTypeJWT] (JWT access tokens only) or [TokenTypeRefreshToken].
	RequestedTokenType string
}

// TokenExchangeDecision is what the policy allows ([TokenExchangeModel]).
type TokenExchangeDecision struct {
	// Audience is the audience of the new token. When the request names a
	// target it must be that target (anything else is invalid_target);
	// when it names none, empty means [Options.Audience].
	Audience string
	// Scope, when not nil, is the scope to issue instead of the requested
	// one (or, without a request, the subject token's).
	Scope []string
	// WiderScope lets the scope exceed the subject token's. Default false:
	// the new token never has more than the subject token.
	WiderScope bool
	// RefreshToken allows requested_token_type refresh_token.
	RefreshToken bool
}

// TokenExchangeModel is the policy of token exchange (RFC 8693): who may
// exchange what for whom. The grant is enabled by default when the
// model implements it; a client also needs [GrantTokenExchange] in its
// Grants and must authenticate. Without it no exchange is
// possible: the default is to deny.
type TokenExchangeModel interface {
	// AuthorizeTokenExchange decides a validated exchange: nil refuses it
	// (invalid_request), an *errors.Error refuses it with that error
	// (errors.ErrInvalidTarget for a target it will not serve,
	// errors.ErrInvalidScope), a decision allows it. [ExchangePolicy]
	// makes the usual decisions from a rule per client.
	AuthorizeTokenExchange(ctx context.Context, req *TokenExchangeRequest) (*TokenExchangeDecision, error)
}

// ExchangePolicy is one client's rule of token exchange, for models that
// store rules rather than code: [ExchangePolicy.Decide] implements
// [TokenExchangeModel.AuthorizeTokenExchange] for its client. memorymodel
// and mongomodel store one per client.
type ExchangePolicy struct {
	// ClientID is the client the rule is for.
	ClientID string
	// Audiences are the targets (audience or resource values) its tokens
	// may be issued for; a request naming another is invalid_target. A
	// request naming none gets [Options.Audience].
	Audiences []string
	// SubjectIssuers are the [TrustedIssuer] identifiers whose JWTs it may
	// exchange; "" stands for this server's own tokens. Default nil: this
	// server's own tokens only.
	SubjectIssuers []string
	// Impersonation allows exchanges without an actor token: the new
	// token stands for the subject as if the subject had asked.
	Impersonation bool
	// Delegation allows exchanges with an actor token: the new token
	// carries "act". ActorSubjects, when not empty, lists the actors
	// ("sub" of the actor token) allowed.
	Delegation    bool
	ActorSubjects []string
	// Scopes, when not nil, bounds the scope of the new tokens; a
	// requested scope beyond it is invalid_scope.
	Scopes []string
	// RefreshTokens allows requested_token_type refresh_token.
	RefreshTokens bool
}

// Clone returns a deep copy of p, for models that copy what they store.
func (p *ExchangePolicy) Clone() *ExchangePolicy {
	c := *p
	c.Audiences = slices.Clone(p.Audiences)
	c.SubjectIssuers = slices.Clone(p.SubjectIssuers)
	c.ActorSubjects = slices.Clone(p.ActorSubjects)
	c.Scopes = slices.Clone(p.Scopes)
	return &c
}

// Decide applies the rule to req: nil (refused) when req is another
// client's, when the subject token's issuer is not among SubjectIssuers,
// when an actor is present without Delegation (or is not among
// ActorSubjects) or absent without Impersonation, and when a refresh token
// is asked without RefreshTokens; invalid_target for a target outside
// Audiences; invalid_scope for a requested scope outside Scopes.
func (p *ExchangePolicy) Decide(req *TokenExchangeRequest) (*TokenExchangeDecision, error) {
	if p == nil || req.Client == nil || req.Client.ID != p.ClientID {
		return nil, nil
	}
	issuers := p.SubjectIssuers
	if issuers == nil {
		issuers = []string{""}
	}
	if !slices.Contains(issuers, req.Subject.Issuer) {
		return nil, nil
	}
	if req.Actor != nil {
		if !p.Delegation || (len(p.ActorSubjects) > 0 && !slices.Contains(p.ActorSubjects, req.Actor.Subject)) {
			return nil, nil
		}
	} else if !p.Impersonation {
		return nil, nil
	}
	if req.RequestedTokenType == TokenTypeRefreshToken && !p.RefreshTokens {
		return nil, nil
	}
	d := &TokenExchangeDecision{RefreshToken: p.RefreshTokens}
	if req.Target != "" {
		if !slices.Contains(p.Audiences, req.Target) {
			return nil, oerrors.ErrInvalidTarget.WithDescription("The client may not obtain tokens for this target.")
		}
		d.Audience = req.Target
	}
	if p.Scopes != nil {
		if req.Scope != nil {
			if !ScopeCovers(p.Scopes, req.Scope) {
				return nil, oerrors.ErrInvalidScope.WithDescription("The requested scope exceeds what this client may obtain by exchange.")
			}
		} else {
			d.Scope = []string{}
			for _, s := range req.Subject.Scope {
				if slices.Contains(p.Scopes, s) {
					d.Scope = append(d.Scope, s)
				}
			}
		}
	}
	return d, nil
}
