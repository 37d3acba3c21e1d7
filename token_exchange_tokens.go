package oauth2server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	stderrors "errors"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// The failures of subject and actor tokens: invalid_request (RFC 8693
// §2.2.2), with the reason.
var (
	errExchangeType = map[bool]*oerrors.Error{
		true:  oerrors.ErrInvalidRequest.WithDescription("The subject_token_type is not supported."),
		false: oerrors.ErrInvalidRequest.WithDescription("The actor_token_type is not supported."),
	}
	errExchangeToken = map[bool]*oerrors.Error{
		true:  oerrors.ErrInvalidRequest.WithDescription("The subject_token is invalid, expired, or revoked."),
		false: oerrors.ErrInvalidRequest.WithDescription("The actor_token is invalid, expired, or revoked."),
	}
	errExchangeIssuer = map[bool]*oerrors.Error{
		true:  oerrors.ErrInvalidRequest.WithDescription("The subject_token's issuer is not trusted."),
		false: oerrors.ErrInvalidRequest.WithDescription("The actor_token's issuer is not trusted."),
	}
	errExchangeKey = map[bool]*oerrors.Error{
		true:  oerrors.ErrInvalidRequest.WithDescription("No key of the subject_token's issuer matches its kid and alg."),
		false: oerrors.ErrInvalidRequest.WithDescription("No key of the actor_token's issuer matches its kid and alg."),
	}
	errExchangeTokenAud = map[bool]*oerrors.Error{
		true:  oerrors.ErrInvalidRequest.WithDescription("The subject_token's aud does not name this authorization server."),
		false: oerrors.ErrInvalidRequest.WithDescription("The actor_token's aud does not name this authorization server."),
	}
	errExchangeTokenClient = map[bool]*oerrors.Error{
		true:  oerrors.ErrInvalidRequest.WithDescription("This client may not present tokens of the subject_token's issuer."),
		false: oerrors.ErrInvalidRequest.WithDescription("This client may not present tokens of the actor_token's issuer."),
	}
	errExchangeUnknownUser = oerrors.ErrInvalidRequest.WithDescription("The subject_token's subject is unknown here.")
	errExchangeIDTokenAud  = oerrors.ErrInvalidRequest.WithDescription("The ID token was issued to another client.")
)

// exchangedToken validates a subject (subject true) or actor token by the
// rules of its type: an access token of this server (opaque or
// JWT), a JWT of this server's or of a trusted issuer, an ID token of this
// OpenID Provider or of a trusted issuer. Refresh tokens and other types
// are not exchanged. A subject token of a trusted issuer must name a
// local user. Every failure is invalid_request; a storage fault is
// server_error.
func (s *Server) exchangedToken(ctx context.Context, client *Client, raw, typ string, subject bool) (*ExchangedToken, error) {
	invalid := errExchangeToken[subject]
	if len(raw) > maxAccessTokenBytes {
		return nil, invalid
	}
	switch typ {
	case TokenTypeAccessToken:
		return s.ownAccessToken(ctx, raw, typ, invalid)
	case TokenTypeJWT:
		if !looksLikeJWT(raw) {
			return nil, invalid
		}
		if s.jwtAccess && s.isOurs(raw) {
			return s.ownAccessToken(ctx, raw, typ, invalid)
		}
		return s.foreignJWT(ctx, client, raw, typ, subject)
	case TokenTypeIDToken:
		if !looksLikeJWT(raw) {
			return nil, invalid
		}
		if s.oidc != nil && s.isOurs(raw) {
			return s.ownIDToken(client, raw, typ, invalid)
		}
		return s.foreignJWT(ctx, client, raw, typ, subject)
	}
	return nil, errExchangeType[subject]
}

// isOurs reports whether the unverified iss of a JWT is this server's: it
// only chooses the keys that will verify it.
func (s *Server) isOurs(raw string) bool {
	if s.opts.Issuer == "" {
		return false
	}
	_, rest, _ := strings.Cut(raw, ".")
	payload, _, _ := strings.Cut(rest, ".")
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return false
	}
	var c struct {
		Iss string `json:"iss"`
	}
	return json.Unmarshal(b, &c) == nil && c.Iss == s.opts.Issuer
}

// ownAccessToken validates an access token of this server as
// introspection does, whatever its audience: a JWT by signature, claims
// and the deny-list, joined with its stored record when the model has one
// (for the grant family); an opaque token by its record, live and
// unexpired.
func (s *Server) ownAccessToken(ctx context.Context, raw, typ string, invalid *oerrors.Error) (*ExchangedToken, error) {
	var tok *Token
	if s.jwtAccess && looksLikeJWT(raw) {
		c, err := s.exchangedJWT(ctx, raw)
		if err != nil {
			if oerrors.IsServerError(err) {
				return nil, err
			}
			return nil, invalid.WithCause(err)
		}
		revoked, err := s.jtis.IsJTIRevoked(ctx, c.ID)
		if err != nil {
			return nil, storeError("IsJTIRevoked", err)
		}
		if revoked {
			return nil, invalid
		}
		if tok, err = claimsToken(raw, c, s.opts.Audience); err != nil {
			return nil, invalid.WithCause(err)
		}
		if s.accessTokens != nil {
			rec, err := s.accessTokens.GetAccessToken(ctx, raw)
			if err != nil {
				return nil, storeError("GetAccessToken", err)
			}
			if rec != nil {
				if rec.Revoked {
					return nil, invalid
				}
				tok.GrantID = rec.GrantID
			}
		}
	} else {
		if s.accessTokens == nil {
			return nil, invalid
		}
		rec, err := s.accessTokens.GetAccessToken(ctx, raw)
		if err != nil {
			return nil, storeError("GetAccessToken", err)
		}
		if rec == nil || rec.Revoked || !s.now().Before(rec.AccessTokenExpiresAt) {
			return nil, invalid
		}
		tok = rec
	}
	sub, aud := tok.UserID, tok.Audience
	if sub == "" {
		sub = tok.ClientID
	}
	if aud == "" {
		aud = s.opts.Audience
	}
	x := &ExchangedToken{Type: typ, Subject: sub, UserID: tok.UserID, ClientID: tok.ClientID,
		Scope: slices.Clone(tok.Scope), ExpiresAt: tok.AccessTokenExpiresAt, Actor: tok.Actor.Clone(), Token: tok}
	if aud != "" {
		x.Audience = []string{aud}
	}
	return x, nil
}

// parseJWTAccessTokenAnyAudience verifies a JWT access token of this
// server as parseJWTAccessToken does, without leeway, but accepts any aud:
// a token exchanged for another resource server is still ours to
// introspect and to exchange again.
func (s *Server) parseJWTAccessTokenAnyAudience(raw string) (*accessTokenClaims, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods(s.jwt.algs),
		jwt.WithIssuer(s.opts.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.opts.Now),
		jwt.WithStrictDecoding(),
	)
	claims := &accessTokenClaims{}
	if _, err := p.ParseWithClaims(raw, claims, s.jwtKeyFunc); err != nil {
		return nil, errTokenInvalid.WithCause(err)
	}
	if claims.ID == "" || claims.ClientID == "" || claims.Subject == "" || len(claims.Audience) == 0 {
		return nil, errTokenInvalid.WithCause(stderrors.New("jti, client_id, sub or aud missing"))
	}
	return claims, nil
}

// exchangedJWT verifies a JWT access token of this server whatever its
// aud, which must be one this server issues ([Server.issuedAudience]).
func (s *Server) exchangedJWT(ctx context.Context, raw string) (*accessTokenClaims, error) {
	c, err := s.parseJWTAccessTokenAnyAudience(raw)
	if err != nil {
		return nil, err
	}
	ok, err := s.issuedAudience(ctx, raw, c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errTokenInvalid
	}
	return c, nil
}

// issuedAudience reports whether the aud of the JWT access token raw is
// one this server issues: the default audience or resources its client
// may request, or the target of a token exchange, which only
// the token's stored record says (Token.Audience): without such a record
// (or without AccessTokenModel) that aud is refused.
func (s *Server) issuedAudience(ctx context.Context, raw string, c *accessTokenClaims) (bool, error) {
	if ok, err := s.knownAudience(ctx, c.ClientID, c.Audience); err != nil || ok {
		return ok, err
	}
	if s.accessTokens == nil || len(c.Audience) != 1 {
		return false, nil
	}
	rec, err := s.accessTokens.GetAccessToken(ctx, raw)
	if err != nil {
		return false, storeError("GetAccessToken", err)
	}
	return rec != nil && rec.Audience != "" && rec.Audience == c.Audience[0], nil
}

// ownIDToken validates an ID token of this OpenID Provider: signature
// with our keys, iss, unexpired, issued to the requesting client (an ID
// token is for the client it names in aud). Its sub is the user's ID,
// which it is only for clients with public subjects; a pairwise sub names
// nobody the server can find.
func (s *Server) ownIDToken(client *Client, raw, typ string, invalid *oerrors.Error) (*ExchangedToken, error) {
	c, err := s.parseIDToken(raw)
	if err != nil || c.ExpiresAt == nil || !s.now().Before(c.ExpiresAt.Time) {
		return nil, invalid
	}
	if !slices.Contains(c.Audience, client.ID) {
		return nil, errExchangeIDTokenAud
	}
	if client.SubjectType == SubjectPairwise {
		return nil, invalid.WithCause(stderrors.New("a pairwise sub cannot be mapped to a user"))
	}
	return &ExchangedToken{Type: typ, Subject: c.Subject, UserID: c.Subject, ClientID: client.ID,
		Audience: slices.Clone(c.Audience), ExpiresAt: c.ExpiresAt.Time}, nil
}

// foreignJWT validates a JWT (or ID token) of a trusted issuer: signature
// with the issuer's keys and pinned algorithm, exp, nbf, iat, aud naming
// this server (or TrustedIssuer.Audiences), the issuer's client
// restriction, and a sub the model maps to a local user (required of a
// subject token). It is a token, not an assertion: it has no lifetime
// bound here and may be presented again.
func (s *Server) foreignJWT(ctx context.Context, client *Client, raw, typ string, subject bool) (*ExchangedToken, error) {
	what := "actor_token"
	if subject {
		what = "subject_token"
	}
	var ti *TrustedIssuer
	check := &assertionCheck{
		fail:   oerrors.ErrInvalidRequest,
		what:   what,
		parser: s.assert.issuerParser,
		typ:    func(string) bool { return true },
		// A token of another issuer (an ID token with many claims) may be
		// larger than an assertion; exchangedToken capped it already.
		maxBytes: maxAccessTokenBytes,
	}
	check.key = func(t *jwt.Token, c *assertionClaims) (any, error) {
		var err error
		if ti, err = s.trustedIssuer(ctx, c.Issuer); err != nil || ti == nil {
			return nil, cmpErr(err, errExchangeIssuer[subject])
		}
		return s.issuerKey(ctx, ti, t, errExchangeKey[subject], errExchangeKey[subject])
	}
	c, err := s.parseAssertion(raw, check)
	if err != nil {
		return nil, err
	}
	if !audienceOK(&c.Audience, s.issuerAudiences(ti), false) {
		return nil, errExchangeTokenAud[subject]
	}
	if len(ti.ClientIDs) > 0 && !slices.Contains(ti.ClientIDs, client.ID) {
		return nil, errExchangeTokenClient[subject]
	}
	scope, err := ParseScope(c.Scope)
	if err != nil || c.Subject == "" || c.Act.depth() > maxActorDepth || c.MayAct.depth() > 1 {
		return nil, errExchangeToken[subject]
	}
	user, err := s.assert.issuers.GetSubjectUser(ctx, ti, c.Subject)
	if err != nil {
		return nil, storeError("GetSubjectUser", err)
	}
	if user == nil && subject {
		return nil, errExchangeUnknownUser
	}
	x := &ExchangedToken{Type: typ, Issuer: ti.Issuer, Subject: c.Subject, ClientID: c.ClientID, Scope: scope,
		Audience: c.Audience.values, ExpiresAt: c.Expiry.Time, Actor: c.Act, MayAct: c.MayAct}
	if user != nil {
		x.UserID = user.ID
	}
	return x, nil
}
