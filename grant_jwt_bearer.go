package oauth2server

import (
	"context"
	"slices"

	"github.com/golang-jwt/jwt/v5"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

var (
	errNoAssertion        = oerrors.ErrInvalidRequest.WithDescription("The assertion parameter is missing.")
	errBearerIssuer       = oerrors.ErrInvalidGrant.WithDescription("The assertion's issuer is not trusted.")
	errBearerAlg          = oerrors.ErrInvalidGrant.WithDescription("The assertion's algorithm is not allowed for its issuer.")
	errBearerKey          = oerrors.ErrInvalidGrant.WithDescription("No key of the assertion's issuer matches its kid and alg.")
	errBearerAudience     = oerrors.ErrInvalidGrant.WithDescription("The assertion's aud does not name this authorization server.")
	errBearerSubject      = oerrors.ErrInvalidGrant.WithDescription("The assertion has no sub claim.")
	errBearerJTI          = oerrors.ErrInvalidGrant.WithDescription("The assertion's jti is longer than 256 bytes.")
	errBearerClient       = oerrors.ErrInvalidGrant.WithDescription("This client may not present assertions of this issuer.")
	errBearerUnknownUser  = oerrors.ErrInvalidGrant.WithDescription("The assertion's subject is unknown here.")
	errBearerReplay       = oerrors.ErrInvalidGrant.WithDescription("The assertion was used before.")
	errBearerIssuerScopes = oerrors.ErrInvalidScope.WithDescription("The requested scope exceeds what the assertion's issuer may grant.")
)

// grantJWTBearer implements the JWT bearer grant (RFC 7523 §2.1, §3; RFC
// 7521 §4.1): a JWT of a [TrustedIssuer], signed with one of its keys,
// names a local user by its sub, and the client gets an access token for
// that user. Every problem of the assertion is invalid_grant.
//
// The checks are those of a client assertion, with
// the issuer's keys and its own lifetime bound; aud names this server (its
// TrustedIssuer.Audiences, else the issuer identifier and
// Assertions.Audiences); the jti, or the assertion's digest when it has
// none, is single use until exp (RFC 7523 §3 item 7). The scope is what
// ValidateScope grants, within the issuer's Scopes. No refresh token is
// issued: the client presents a new assertion instead.
func (s *Server) grantJWTBearer(ctx context.Context, req *TokenRequest) (*issue, error) {
	raw := req.Params["assertion"]
	if raw == "" {
		return nil, errNoAssertion
	}
	var ti *TrustedIssuer
	check := &assertionCheck{
		fail:        oerrors.ErrInvalidGrant,
		what:        "assertion",
		parser:      s.assert.issuerParser,
		typ:         typAssertion(false),
		maxLifetime: s.assert.opts.MaxLifetime,
	}
	check.key = func(t *jwt.Token, c *assertionClaims) (any, error) {
		var err error
		if ti, err = s.trustedIssuer(ctx, c.Issuer); err != nil || ti == nil {
			return nil, cmpErr(err, errBearerIssuer)
		}
		if ti.MaxAssertionLifetime > 0 {
			// parseAssertion bounds the lifetime after this returns.
			check.maxLifetime = ti.MaxAssertionLifetime
		}
		return s.issuerKey(ctx, ti, t, errBearerAlg, errBearerKey)
	}
	claims, err := s.parseAssertion(raw, check)
	if err != nil {
		return nil, err
	}
	if !audienceOK(&claims.Audience, s.issuerAudiences(ti), false) {
		return nil, errBearerAudience
	}
	if claims.Subject == "" {
		return nil, errBearerSubject
	}
	if len(claims.ID) > maxJTIBytes {
		return nil, errBearerJTI
	}
	if len(ti.ClientIDs) > 0 && !slices.Contains(ti.ClientIDs, req.Client.ID) {
		return nil, errBearerClient
	}
	user, err := s.assert.issuers.GetSubjectUser(ctx, ti, claims.Subject)
	if err != nil {
		return nil, storeError("GetSubjectUser", err)
	}
	if user == nil {
		return nil, errBearerUnknownUser
	}
	scope, err := s.validateScope(ctx, req.Client, user, req.Scope)
	if err != nil {
		return nil, err
	}
	if scope, err = withinIssuerScopes(ti, req.Scope, scope); err != nil {
		return nil, err
	}
	// Spent last, so that a request refused for its scope can be retried
	// with the same assertion; of concurrent presentations one wins.
	jti := claims.ID
	if jti == "" {
		jti = TokenDigest(raw)
	}
	first, err := s.jtiClaim(ctx, "jwt-bearer", ti.Issuer, jti, claims.Expiry.Time)
	if err != nil {
		return nil, err
	}
	if !first {
		return nil, errBearerReplay
	}
	return &issue{user: user, scope: scope}, nil
}

// cmpErr returns err when it is not nil, else fallback.
func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// trustedIssuer looks up the issuer of a JWT; nil when it is not trusted
// (or the model cannot tell).
func (s *Server) trustedIssuer(ctx context.Context, iss string) (*TrustedIssuer, error) {
	if iss == "" || s.assert.issuers == nil {
		return nil, nil
	}
	ti, err := s.assert.issuers.GetTrustedIssuer(ctx, iss)
	if err != nil {
		return nil, storeError("GetTrustedIssuer", err)
	}
	return ti, nil
}

// issuerKey returns the key of a trusted issuer that verifies t: from its
// JWKS or JWKSURI, with the header's kid and the key's own algorithm,
// which must be the issuer's pinned one when it has one.
func (s *Server) issuerKey(ctx context.Context, ti *TrustedIssuer, t *jwt.Token, errAlg, errKey *oerrors.Error) (any, error) {
	alg := t.Method.Alg()
	if ti.Algorithm != "" && alg != ti.Algorithm {
		return nil, errAlg
	}
	kid, _ := t.Header["kid"].(string)
	ks, err := s.keySetOf(ctx, ti.JWKS, ti.JWKSURI, ti.Algorithm, kid)
	if err != nil {
		return nil, errKey.WithCause(err)
	}
	k, ok := ks.find(kid, alg)
	if !ok {
		return nil, errKey
	}
	return k.key, nil
}

// issuerAudiences are the aud values accepted in the JWTs of ti.
func (s *Server) issuerAudiences(ti *TrustedIssuer) []string {
	if len(ti.Audiences) > 0 {
		return ti.Audiences
	}
	return s.ourAudiences(false)
}

// withinIssuerScopes bounds granted by the issuer's Scopes: a requested
// scope outside them is invalid_scope; without a request, granted is cut
// down to them, and nothing left is invalid_scope too.
func withinIssuerScopes(ti *TrustedIssuer, requested, granted []string) ([]string, error) {
	if ti.Scopes == nil {
		return granted, nil
	}
	if requested != nil {
		for _, sc := range granted {
			if !slices.Contains(ti.Scopes, sc) {
				return nil, errBearerIssuerScopes
			}
		}
		return granted, nil
	}
	out := make([]string, 0, len(granted))
	for _, sc := range granted {
		if slices.Contains(ti.Scopes, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, errBearerIssuerScopes
	}
	return out, nil
}
