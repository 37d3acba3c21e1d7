package oauth2server

import (
	"cmp"
	"context"
	"encoding/json"
	stderrors "errors"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// Defaults and bounds of [AssertionOptions].
const (
	DefaultAssertionLifetime      = 5 * time.Minute
	DefaultAssertionLeeway        = 30 * time.Second
	DefaultJWKSTimeout            = 5 * time.Second
	DefaultJWKSMaxBytes           = 64 << 10
	DefaultJWKSCacheTTL           = time.Hour
	DefaultJWKSMinRefreshInterval = 30 * time.Second
)

// Limits of assertions: a client assertion is a few hundred
// bytes, an RSA-4096 one under two kilobytes.
const (
	maxAssertionBytes = 8 << 10
	maxJTIBytes       = 256
	maxAudValues      = 16
)

// AssertionOptions configures JWT assertions ([Options.Assertions]): client
// authentication by private_key_jwt and client_secret_jwt (RFC 7523 §2.2,
// OIDC Core §9), the JWT bearer grant (RFC 7523 §2.1) and the JWTs of
// trusted issuers in token exchange (RFC 8693). The zero value is the
// default; see docs/client-authentication.md.
type AssertionOptions struct {
	// Audiences are the values an assertion's "aud" may name besides
	// [Options.Issuer]: the token endpoint URL (RFC 7523 §3), and the
	// URLs of the introspection, revocation and device authorization
	// endpoints if clients name those. Optional. Default none: aud must
	// contain the issuer identifier.
	Audiences []string
	// StrictAudience accepts only the issuer identifier, as a single
	// string and not in an array, in the aud of client assertions (FAPI
	// 2.0 §5.3.2.1, R-144), which closes audience injection. Audiences is
	// then ignored for client assertions. Optional. Default false.
	StrictAudience bool
	// MaxLifetime bounds how long an assertion may be valid: its exp may
	// be at most this far ahead, its iat at most this far back.
	// Optional. Default 5 minutes. A [TrustedIssuer] may set its own.
	MaxLifetime time.Duration
	// Leeway is the clock skew tolerated on exp, nbf and iat. Optional.
	// Default 30 seconds (FAPI 2.0 accepts 10 seconds ahead and refuses
	// 60); negative means none; more than 5 minutes is an error.
	Leeway time.Duration

	// JWKSTimeout bounds each fetch of a jwks_uri, connection and TLS
	// handshake included. Optional. Default 5 seconds.
	JWKSTimeout time.Duration
	// JWKSMaxBytes caps the size of a fetched JWK Set. Optional. Default
	// 64 KiB.
	JWKSMaxBytes int64
	// JWKSCacheTTL is how long a fetched JWK Set is used when its answer
	// has no Cache-Control max-age. A max-age is honoured between
	// JWKSMinRefreshInterval and 24 hours. Optional. Default 1 hour.
	JWKSCacheTTL time.Duration
	// JWKSMinRefreshInterval is the least time between two fetches of one
	// jwks_uri: an assertion with an unknown kid (a key rotation) refetches
	// the set at most this often, and a failed fetch is not retried before
	// it has passed. Optional. Default 30 seconds.
	JWKSMinRefreshInterval time.Duration
	// AllowLoopbackJWKSURI lets jwks_uri name a loopback host, over plain
	// http too. Optional. Default false: https only, and only to public
	// addresses. For tests and development only.
	AllowLoopbackJWKSURI bool
}

// fill sets the defaults and checks the bounds.
func (o *AssertionOptions) fill() error {
	o.Audiences = slices.Clone(o.Audiences)
	switch {
	case o.MaxLifetime == 0:
		o.MaxLifetime = DefaultAssertionLifetime
	case o.MaxLifetime < 0:
		return errorf("Assertions.MaxLifetime must not be negative")
	}
	switch {
	case o.Leeway == 0:
		o.Leeway = DefaultAssertionLeeway
	case o.Leeway < 0:
		o.Leeway = 0
	case o.Leeway > MaxJWTLeeway:
		return errorf("Assertions.Leeway %s exceeds %s", o.Leeway, MaxJWTLeeway)
	}
	if o.JWKSTimeout < 0 || o.JWKSMaxBytes < 0 || o.JWKSCacheTTL < 0 || o.JWKSMinRefreshInterval < 0 {
		return errorf("Assertions: JWKS durations and sizes must not be negative")
	}
	if o.JWKSTimeout == 0 {
		o.JWKSTimeout = DefaultJWKSTimeout
	}
	if o.JWKSMaxBytes == 0 {
		o.JWKSMaxBytes = DefaultJWKSMaxBytes
	}
	if o.JWKSCacheTTL == 0 {
		o.JWKSCacheTTL = DefaultJWKSCacheTTL
	}
	if o.JWKSMinRefreshInterval == 0 {
		o.JWKSMinRefreshInterval = DefaultJWKSMinRefreshInterval
	}
	return nil
}

// assertionState is what the Server keeps for assertions and token
// exchange: the options, the capabilities, the key caches.
type assertionState struct {
	opts     *AssertionOptions
	secrets  ClientSecretModel  // nil: no client_secret_jwt
	issuers  TrustedIssuerModel // nil: no JWT bearer grant, no foreign JWTs
	exchange TokenExchangeModel // nil: no token exchange
	inline   inlineKeySets
	remote   *jwksFetcher
	// clientParser verifies client assertions, issuerParser the JWTs of
	// trusted issuers: made once, since a jwt.Parser is not changed by
	// parsing.
	clientParser, issuerParser *jwt.Parser
}

// setupAssertions validates Options.Assertions and finds the capabilities.
func (s *Server) setupAssertions() error {
	o := &s.opts.Assertions
	if err := o.fill(); err != nil {
		return err
	}
	a := &assertionState{opts: o}
	a.secrets, _ = Capability[ClientSecretModel](s.model)
	a.issuers, _ = Capability[TrustedIssuerModel](s.model)
	a.exchange, _ = Capability[TokenExchangeModel](s.model)
	a.remote = newJWKSFetcher(o, s.now)
	algs := clientAssertionAlgs
	if s.fapi {
		// PS256, ES256 or EdDSA only, so no client_secret_jwt
		// either.
		algs = fapiAlgorithms
	}
	a.clientParser = s.newAssertionParser(algs)
	a.issuerParser = s.newAssertionParser(asymmetricAlgs)
	s.assert = a
	return nil
}

// newAssertionParser returns the parser of assertions signed with one of
// algs: exp required, nbf and iat checked with Assertions.Leeway on the
// Server's clock.
func (s *Server) newAssertionParser(algs []string) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(s.opts.Assertions.Leeway),
		jwt.WithTimeFunc(s.opts.Now),
		jwt.WithStrictDecoding(),
	)
}

// audienceClaim is the aud claim, which is one string or an array of them
// (RFC 7519 §4.1.3); single records which one was sent.
type audienceClaim struct {
	values []string
	single bool
}

func (a *audienceClaim) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		a.values, a.single = []string{s}, true
		return nil
	}
	if err := json.Unmarshal(b, &a.values); err != nil {
		return err
	}
	if len(a.values) > maxAudValues {
		return stderrors.New("too many aud values")
	}
	a.single = false
	return nil
}

// assertionClaims are the claims of an assertion (RFC 7523 §3) and of a
// JWT subject or actor token (RFC 8693 §2.1). Times are verified by the
// jwt package's validator, the rest by [Server.parseAssertion] and its
// callers.
type assertionClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  audienceClaim    `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ID        string           `json:"jti"`
	// Members that token exchange reads of a subject or actor token.
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
	Act      *Actor `json:"act"`
	MayAct   *Actor `json:"may_act"`
}

func (c *assertionClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.Expiry, nil }
func (c *assertionClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt, nil }
func (c *assertionClaims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore, nil }
func (c *assertionClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *assertionClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *assertionClaims) GetAudience() (jwt.ClaimStrings, error)       { return c.Audience.values, nil }

// assertionCheck is how one kind of assertion is verified.
type assertionCheck struct {
	// fail is the error of every refusal (invalid_client, invalid_grant,
	// invalid_request), with a description per reason.
	fail *oerrors.Error
	// what names the JWT in descriptions: "client assertion", ...
	what string
	// parser holds the allow-list of algorithms, fixed before parsing
	// Server.assert's clientParser or issuerParser.
	parser *jwt.Parser
	// typ accepts the typ header values of this kind of JWT.
	typ func(string) bool
	// key returns the verification key for the header and the claims,
	// whose signature is not verified yet: only iss and kid may be used
	// to find it. A *oerrors.Error it returns is kept.
	key func(t *jwt.Token, c *assertionClaims) (any, error)
	// audiences are accepted aud values, any one suffices; strict needs
	// aud to be a single string equal to audiences[0]. Nil: aud is not
	// checked here (the caller does).
	audiences []string
	strict    bool
	// maxLifetime bounds exp ahead and iat back; 0 for tokens, which
	// have their own lifetimes.
	maxLifetime time.Duration
	// maxBytes caps the JWT's size; 0 means maxAssertionBytes.
	maxBytes int
}

// parseAssertion verifies raw: size, header (no crit, an accepted typ, an
// allowed alg with the key's own algorithm), signature, then exp
// (required), nbf and iat with leeway, the lifetime bounds and aud. It
// returns the claims; iss, sub and jti are the caller's to check.
func (s *Server) parseAssertion(raw string, c *assertionCheck) (*assertionClaims, error) {
	if limit := cmp.Or(c.maxBytes, maxAssertionBytes); len(raw) > limit {
		return nil, c.fail.WithDescription("The " + c.what + " is too large.")
	}
	leeway := s.assert.opts.Leeway
	p := c.parser
	claims := &assertionClaims{}
	var keyErr error
	_, err := p.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if _, crit := t.Header["crit"]; crit {
			// No JWS extension is understood here (RFC 7515 §4.1.11).
			keyErr = c.fail.WithDescription("The " + c.what + " has a critical header parameter that is not understood.")
			return nil, keyErr
		}
		typ, _ := t.Header["typ"].(string)
		if _, ok := t.Header["typ"]; ok && (typ == "" || !c.typ(typ)) {
			keyErr = c.fail.WithDescription("The " + c.what + " has an unexpected typ header.")
			return nil, keyErr
		}
		k, err := c.key(t, claims)
		if err != nil {
			keyErr = err
		}
		return k, err
	})
	switch {
	case err == nil:
	case keyErr != nil:
		var oe *oerrors.Error
		if stderrors.As(keyErr, &oe) {
			return nil, oe
		}
		return nil, c.fail.WithDescription("No key of the " + c.what + "'s issuer verifies it.").WithCause(keyErr)
	case stderrors.Is(err, jwt.ErrTokenExpired):
		return nil, c.fail.WithDescription("The " + c.what + " has expired.").WithCause(err)
	case stderrors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return nil, c.fail.WithDescription("The " + c.what + " has no exp claim.").WithCause(err)
	case stderrors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, c.fail.WithDescription("The " + c.what + " is not valid yet (nbf).").WithCause(err)
	case stderrors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return nil, c.fail.WithDescription("The " + c.what + " is issued in the future (iat).").WithCause(err)
	case stderrors.Is(err, jwt.ErrTokenMalformed):
		return nil, c.fail.WithDescription("The " + c.what + " is not a well-formed JWT.").WithCause(err)
	default:
		// An algorithm outside the allow-list (none, HMAC for a key
		// pair), an unknown one, or a signature that does not verify.
		return nil, c.fail.WithDescription("The " + c.what + "'s signature or algorithm is invalid.").WithCause(err)
	}
	now := s.now()
	if c.maxLifetime > 0 {
		if claims.Expiry.Sub(now) > c.maxLifetime+leeway {
			return nil, c.fail.WithDescription("The " + c.what + " is valid for too long (exp).")
		}
		if claims.IssuedAt != nil && now.Sub(claims.IssuedAt.Time) > c.maxLifetime+leeway {
			return nil, c.fail.WithDescription("The " + c.what + " was issued too long ago (iat).")
		}
	}
	if c.audiences != nil && !audienceOK(&claims.Audience, c.audiences, c.strict) {
		return nil, c.fail.WithDescription("The " + c.what + "'s aud does not name this authorization server.")
	}
	return claims, nil
}

// audienceOK reports whether aud names one of accepted; strict: aud is
// the single string accepted[0].
func audienceOK(aud *audienceClaim, accepted []string, strict bool) bool {
	if strict {
		return aud.single && len(accepted) > 0 && aud.values[0] == accepted[0]
	}
	for _, v := range aud.values {
		if v != "" && slices.Contains(accepted, v) {
			return true
		}
	}
	return false
}

// ourAudiences are the aud values that name this server in assertions:
// the issuer first, then Assertions.Audiences (only the issuer when
// strict).
func (s *Server) ourAudiences(strict bool) []string {
	out := make([]string, 0, 1+len(s.assert.opts.Audiences))
	if s.opts.Issuer != "" {
		out = append(out, s.opts.Issuer)
	}
	if !strict {
		out = append(out, s.assert.opts.Audiences...)
	}
	return out
}

// typAssertion accepts the typ values of an assertion: JWT (RFC 7519
// §5.1), and for client assertions client-authentication+jwt (the typ of
// draft-ietf-oauth-rfc7523bis). A JWT of another kind (at+jwt, dpop+jwt,
// logout+jwt, ...) is refused so that it cannot be replayed as an
// assertion.
func typAssertion(clientAuth bool) func(string) bool {
	return func(typ string) bool {
		typ = strings.TrimPrefix(strings.ToLower(typ), "application/")
		return typ == "jwt" || (clientAuth && typ == "client-authentication+jwt")
	}
}

// jtiClaim spends an assertion's jti, or its digest when it has none,
// until it expires: of any number of presentations, on any
// instance sharing the model's CounterModel, exactly one succeeds.
func (s *Server) jtiClaim(ctx context.Context, purpose, scope, jti string, exp time.Time) (bool, error) {
	ttl := exp.Sub(s.now()) + s.assert.opts.Leeway
	if ttl < time.Second {
		ttl = time.Second
	}
	return s.ClaimOnce(ctx, purpose, scope+"\x00"+jti, ttl)
}
