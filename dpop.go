package oauth2server

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	stderrors "errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// DPoPScheme is the HTTP authentication scheme of DPoP-bound access
// tokens, and their token_type (RFC 9449 §5, §7.1).
const DPoPScheme = "DPoP"

// Defaults and bounds of [DPoPOptions].
const (
	DefaultDPoPProofMaxAge     = time.Minute
	DefaultDPoPClockSkew       = 10 * time.Second
	DefaultDPoPNonceLifetime   = 5 * time.Minute
	MaxDPoPProofMaxAge         = 5 * time.Minute
	maxDPoPClockSkew           = time.Minute
	maxDPoPProofBytes          = 8 << 10 // an RSA 4096 proof is under 2 KiB
	maxDPoPJTIBytes            = 256
	dpopJWTType                = "dpop+jwt"
	dpopReplayPurpose          = "dpop-jti"
	dpopNonceKeyMinBytes       = 32
	dpopNonceDigestBytes       = 16
	dpopThumbprintEncodedBytes = 43 // base64url of a SHA-256 digest
)

// DefaultDPoPAlgorithms are the proof algorithms accepted when
// [DPoPOptions.Algorithms] is empty: asymmetric, widely implemented.
var DefaultDPoPAlgorithms = []string{"ES256", "EdDSA", "PS256", "RS256"}

// dpopSupportedAlgorithms are the algorithms [DPoPOptions.Algorithms] may
// list: asymmetric only, never none or a MAC (RFC 9449 §4.2, R-170).
var dpopSupportedAlgorithms = []string{"ES256", "ES384", "ES512", "EdDSA", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}

// DPoPOptions turns on DPoP (RFC 9449, [Options.DPoP]): sender-constrained
// access tokens, bound to a key the client proves it holds with every
// request. See docs/dpop.md.
type DPoPOptions struct {
	// Algorithms are the JWS algorithms accepted for DPoP proofs, listed in
	// the metadata as dpop_signing_alg_values_supported and in the
	// challenges of resource servers. Optional. Default
	// [DefaultDPoPAlgorithms]. Only asymmetric algorithms (ES256, ES384,
	// ES512, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512) are allowed.
	Algorithms []string
	// Require binds every access token: a token request without a DPoP
	// proof is refused with invalid_dpop_proof.
	// [Client.DPoPBoundAccessTokens] does the same for one client.
	// Optional. Default false.
	Require bool
	// ProofMaxAge is how old a proof's iat may be; replayed proofs
	// are detected for that long. Optional. Default 1 minute; at most 5.
	ProofMaxAge time.Duration
	// ClockSkew is how far in the future a proof's iat may be. Optional.
	// Default 10 seconds; at most 1 minute.
	ClockSkew time.Duration
	// RequireNonce makes every proof carry a nonce the server issued
	// (RFC 9449 §8, §9, R-173): a proof without one, or with a stale one, is
	// answered use_dpop_nonce with a fresh DPoP-Nonce header, at the token
	// and PAR endpoints (400) and at resource servers (401). Nonces rotate
	// every NonceLifetime and stay valid one period more. Optional.
	// Default false.
	RequireNonce bool
	// NonceKey is the HMAC key of the nonces (at least 32 bytes). Every
	// instance of a deployment must share it, or a nonce one issued fails
	// at the next. Optional. Default a random key, for one instance.
	NonceKey []byte
	// NonceLifetime is how often the nonce changes. Optional. Default 5
	// minutes.
	NonceLifetime time.Duration
	// RequestURL returns the URL of r as the client addressed it, without
	// query and fragment, which a proof's htu must name. Optional.
	// Default: https when r arrived over TLS or through one of
	// [Options.TrustedProxies] that sent X-Forwarded-Proto: https, else
	// http; then r.Host and the path of r.URL. Set it behind a proxy that
	// rewrites the host or the path.
	RequestURL func(r *http.Request) string
}

// dpopConfig is DPoPOptions checked, with the proof parser made once.
type dpopConfig struct {
	opts   DPoPOptions
	parser *jwt.Parser
	algs   string // space-separated, for challenges
	keys   dpopKeyCache
}

var (
	errDPoPProof        = oerrors.ErrInvalidDPoPProof
	errDPoPMultiple     = errDPoPProof.WithDescription("The request has more than one DPoP header.")
	errDPoPMalformed    = errDPoPProof.WithDescription("The DPoP proof is not a valid JWT signed with its public jwk under an accepted algorithm.")
	errDPoPClaims       = errDPoPProof.WithDescription("The DPoP proof lacks jti, htm, htu or iat.")
	errDPoPMethod       = errDPoPProof.WithDescription("The DPoP proof's htm is not the method of the request.")
	errDPoPURL          = errDPoPProof.WithDescription("The DPoP proof's htu is not the URL of the request.")
	errDPoPTime         = errDPoPProof.WithDescription("The DPoP proof's iat is too old or in the future.")
	errDPoPATH          = errDPoPProof.WithDescription("The DPoP proof's ath is missing or is not the hash of the access token.")
	errDPoPReplay       = errDPoPProof.WithDescription("The DPoP proof was used before.")
	errDPoPRequired     = errDPoPProof.WithDescription("A DPoP proof is required.")
	errDPoPDisabled     = errDPoPProof.WithDescription("DPoP is not supported.")
	errDPoPCodeKey      = errDPoPProof.WithDescription("The DPoP proof's key is not the one the authorization code is bound to.")
	errDPoPRefreshKey   = errDPoPProof.WithDescription("The DPoP proof's key is not the one the refresh token is bound to.")
	errDPoPJKTMismatch  = errDPoPProof.WithDescription("The dpop_jkt parameter is not the thumbprint of the DPoP proof's key.")
	errDPoPJKTSyntax    = oerrors.ErrInvalidRequest.WithDescription("The dpop_jkt parameter is not a JWK SHA-256 thumbprint.")
	errDPoPNonce        = oerrors.ErrUseDPoPNonce.WithDescription("The DPoP proof must carry the nonce of the DPoP-Nonce header.")
	errDPoPUnsupportedK = stderrors.New("unsupported or malformed jwk")
)

// setupDPoP checks [Options.DPoP] and fills its defaults, on a copy.
func (s *Server) setupDPoP() error {
	if s.opts.DPoP == nil {
		return nil
	}
	o := *s.opts.DPoP
	s.opts.DPoP = &o
	if len(o.Algorithms) == 0 {
		o.Algorithms = slices.Clone(DefaultDPoPAlgorithms)
	}
	for _, a := range o.Algorithms {
		if !slices.Contains(dpopSupportedAlgorithms, a) {
			return errorf("DPoP.Algorithms: %q is not an asymmetric JWS algorithm (RFC 9449 §4.2); use %s",
				a, strings.Join(dpopSupportedAlgorithms, ", "))
		}
	}
	switch {
	case o.ProofMaxAge < 0 || o.ClockSkew < 0 || o.NonceLifetime < 0:
		return errorf("DPoP durations must not be negative")
	case o.ProofMaxAge > MaxDPoPProofMaxAge:
		return errorf("DPoP.ProofMaxAge %s exceeds %s (RFC 9449 §11.1: proofs are short-lived)", o.ProofMaxAge, MaxDPoPProofMaxAge)
	case o.ClockSkew > maxDPoPClockSkew:
		return errorf("DPoP.ClockSkew %s exceeds %s", o.ClockSkew, maxDPoPClockSkew)
	}
	if o.ProofMaxAge == 0 {
		o.ProofMaxAge = DefaultDPoPProofMaxAge
	}
	if o.ClockSkew == 0 {
		o.ClockSkew = DefaultDPoPClockSkew
	}
	if o.NonceLifetime == 0 {
		o.NonceLifetime = DefaultDPoPNonceLifetime
	}
	if o.NonceKey == nil {
		o.NonceKey = make([]byte, dpopNonceKeyMinBytes)
		if _, err := rand.Read(o.NonceKey); err != nil {
			return errorf("DPoP nonce key: %v", err)
		}
	} else if len(o.NonceKey) < dpopNonceKeyMinBytes {
		return errorf("DPoP.NonceKey must hold at least %d bytes", dpopNonceKeyMinBytes)
	}
	s.dpop = &dpopConfig{opts: o, algs: strings.Join(o.Algorithms, " "),
		// Pinned to the allow-list; the key comes from the proof itself,
		// so issuer and audience do not apply, and iat is checked below
		// with the replay window.
		parser: jwt.NewParser(jwt.WithValidMethods(o.Algorithms), jwt.WithoutClaimsValidation())}
	return nil
}

// DPoPEnabled reports whether the Server accepts DPoP proofs
// ([Options.DPoP]).
func (s *Server) DPoPEnabled() bool { return s.dpop != nil }

// DPoPAlgorithms returns the JWS algorithms accepted for DPoP proofs, nil
// when DPoP is off.
func (s *Server) DPoPAlgorithms() []string {
	if s.dpop == nil {
		return nil
	}
	return slices.Clone(s.dpop.opts.Algorithms)
}

// DPoPProof is a verified DPoP proof (RFC 9449 §4).
type DPoPProof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's public key,
	// base64url: what a token bound to it carries as cnf.jkt.
	JKT string
	// ID is the proof's jti.
	ID string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
}

// dpopClaims are the claims of a DPoP proof (RFC 9449 §4.2).
type dpopClaims struct {
	JTI   string           `json:"jti"`
	HTM   string           `json:"htm"`
	HTU   string           `json:"htu"`
	IAT   *jwt.NumericDate `json:"iat"`
	ATH   string           `json:"ath"`
	Nonce string           `json:"nonce"`
}

// The jwt.Claims methods: the parser validates none of them (iat is
// checked against the proof window instead).
func (*dpopClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (c *dpopClaims) GetIssuedAt() (*jwt.NumericDate, error)     { return c.IAT, nil }
func (*dpopClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (*dpopClaims) GetIssuer() (string, error)                   { return "", nil }
func (*dpopClaims) GetSubject() (string, error)                  { return "", nil }
func (*dpopClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// ValidateDPoPProof checks the DPoP proof of r (RFC 9449 §4.3, R-170 to
// exactly one DPoP header holding a JWT whose typ is dpop+jwt,
// whose alg is one of [DPoPOptions.Algorithms], whose jwk header is a
// public key (no private members) that verifies the signature, and whose
// claims carry jti, htm equal to r's method, htu equal to r's URL without
// query and fragment ([DPoPOptions.RequestURL]), iat within
// [DPoPOptions.ProofMaxAge] in the past and [DPoPOptions.ClockSkew] in
// the future, and, with [DPoPOptions.RequireNonce], a current nonce. With
// an accessToken, as at a resource server, ath must be its SHA-256 hash.
// Last, the jti is claimed for the target URL through [Server.ClaimOnce],
// so a proof is accepted once across every instance that shares the
// model's [CounterModel].
//
// It returns nil and no error when r has no DPoP header. Errors are
// invalid_dpop_proof (status 400; resource servers answer 401) and
// use_dpop_nonce, whose answer carries [Server.DPoPNonce] in a DPoP-Nonce
// header ([Server.PrepareError] sets it). A DPoP header while DPoP is off
// is invalid_dpop_proof.
func (s *Server) ValidateDPoPProof(r *http.Request, accessToken string) (*DPoPProof, error) {
	values := r.Header["Dpop"] // the canonical form of "DPoP", without canonicalizing per request
	switch {
	case len(values) == 0:
		return nil, nil
	case s.dpop == nil:
		return nil, errDPoPDisabled
	case len(values) > 1:
		return nil, errDPoPMultiple
	}
	d := s.dpop
	claims, jkt, err := d.parse(values[0])
	if err != nil {
		return nil, errDPoPMalformed.WithCause(err)
	}
	if claims.JTI == "" || len(claims.JTI) > maxDPoPJTIBytes || claims.HTM == "" || claims.HTU == "" || claims.IAT == nil {
		return nil, errDPoPClaims
	}
	if claims.HTM != r.Method {
		return nil, errDPoPMethod
	}
	target, ok := s.requestHTU(r)
	if !ok {
		return nil, errDPoPURL
	}
	if claims.HTU != target {
		// Clients usually send the normalized form; only other spellings
		// are parsed.
		if got, ok := normalizeHTU(claims.HTU); !ok || got != target {
			return nil, errDPoPURL
		}
	}
	now := s.now()
	iat := claims.IAT.Time
	if iat.Before(now.Add(-d.opts.ProofMaxAge)) || iat.After(now.Add(d.opts.ClockSkew)) {
		return nil, errDPoPTime
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if subtle.ConstantTimeCompare([]byte(claims.ATH), []byte(want)) != 1 {
			return nil, errDPoPATH
		}
	}
	if d.opts.RequireNonce && !d.validNonce(claims.Nonce, now) {
		return nil, errDPoPNonce
	}
	first, err := s.ClaimOnce(r.Context(), dpopReplayPurpose, target+" "+claims.JTI, d.opts.ProofMaxAge+d.opts.ClockSkew)
	if err != nil {
		return nil, err
	}
	if !first {
		return nil, errDPoPReplay
	}
	return &DPoPProof{JKT: jkt, ID: claims.JTI, IssuedAt: iat}, nil
}

// parse verifies the signature of a proof with its own jwk and returns
// its claims and the key's thumbprint. It checks no claim.
func (d *dpopConfig) parse(raw string) (*dpopClaims, string, error) {
	return parseDPoPProof(d.parser, raw, &d.keys)
}

// parseDPoPProof is the proof parser: the header's typ and jwk, the
// signature under the pinned algorithms, and the claims' JSON. With a
// cache, a header seen before skips the jwk's checks, conversion and
// thumbprint.
func parseDPoPProof(p *jwt.Parser, raw string, cache *dpopKeyCache) (*dpopClaims, string, error) {
	if len(raw) > maxDPoPProofBytes {
		return nil, "", stderrors.New("proof too large")
	}
	claims := &dpopClaims{}
	var jkt string
	_, err := p.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		// The parser has split raw into three segments and checked alg.
		header := raw[:strings.IndexByte(raw, '.')]
		if k, ok := cache.get(header); ok {
			jkt = k.jkt
			return k.key, nil
		}
		if typ, _ := t.Header["typ"].(string); !strings.EqualFold(typ, dpopJWTType) {
			return nil, stderrors.New("typ is not dpop+jwt")
		}
		jwk, ok := t.Header["jwk"].(map[string]any)
		if !ok {
			return nil, stderrors.New("no jwk header")
		}
		key, thumb, err := publicJWK(jwk, t.Method.Alg())
		if err != nil {
			return nil, err
		}
		cache.put(header, key, thumb)
		jkt = thumb
		return key, nil
	})
	if err != nil {
		return nil, "", err
	}
	return claims, jkt, nil
}

// dpopKeyCache remembers the public keys and thumbprints of the proof
// headers it was given, by the header's encoded segment. A client signs
// every proof with one key, so its proofs share one header (typ, alg,
// jwk; the nonce is a claim), and its key is checked, converted and
// hashed once: the header decides all of that, so equal headers
// get equal answers. It is bounded: when it holds maxDPoPCachedKeys
// headers it starts over, so headers made up to fill it cost what an
// uncached proof costs and no more memory. The zero value is empty; a nil
// cache remembers nothing.
type dpopKeyCache struct {
	m atomic.Pointer[sync.Map] // encoded header -> *dpopCachedKey
	n atomic.Int32
}

type dpopCachedKey struct {
	key crypto.PublicKey
	jkt string
}

// maxDPoPCachedKeys bounds dpopKeyCache: about 1.5 MB with RSA headers of
// 4096-bit keys, its largest.
const maxDPoPCachedKeys = 1024

func (c *dpopKeyCache) get(header string) (*dpopCachedKey, bool) {
	if c == nil {
		return nil, false
	}
	m := c.m.Load()
	if m == nil {
		return nil, false
	}
	v, ok := m.Load(header)
	if !ok {
		return nil, false
	}
	return v.(*dpopCachedKey), true
}

func (c *dpopKeyCache) put(header string, key crypto.PublicKey, jkt string) {
	if c == nil {
		return
	}
	m := c.m.Load()
	if m == nil || c.n.Add(1) > maxDPoPCachedKeys {
		m = new(sync.Map)
		c.m.Store(m)
		c.n.Store(1)
	}
	// A copy: the header is a substring of the request's DPoP header,
	// which it would keep alive.
	m.Store(strings.Clone(header), &dpopCachedKey{key: key, jkt: jkt})
}

// validThumbprint reports whether s looks like a base64url SHA-256
// thumbprint (dpop_jkt, RFC 9449 §10).
func validThumbprint(s string) bool {
	if len(s) != dpopThumbprintEncodedBytes {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}

// tokenEndpointProof validates the DPoP proof of a token request, and
// refuses a request without one when the server or the client requires
// DPoP-bound tokens.
func (s *Server) tokenEndpointProof(r *http.Request, client *Client) (*DPoPProof, error) {
	if s.dpop == nil {
		if client.DPoPBoundAccessTokens {
			return nil, oerrors.ServerError(errorf("client %q requires DPoP-bound access tokens, but Options.DPoP is nil", client.ID))
		}
		return nil, nil
	}
	proof, err := s.ValidateDPoPProof(r, "")
	if err != nil {
		return nil, err
	}
	if proof == nil && (s.dpop.opts.Require || client.DPoPBoundAccessTokens) {
		return nil, errDPoPRequired
	}
	return proof, nil
}
