package oauth2server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// ScopeOpenID is the scope that makes an authorization request an OpenID
// Connect authentication request (OIDC Core §3.1.2.1).
const ScopeOpenID = "openid"

// ScopeOfflineAccess asks for a refresh token in OpenID Connect (OIDC Core
// §11). It is an ordinary scope to this library: the model's scope
// validation and the client's grants decide whether a refresh token is
// issued.
const ScopeOfflineAccess = "offline_access"

// DefaultIDTokenLifetime is how long an ID token is valid by default. An
// ID token is read once, by the relying party at its callback; a short
// lifetime limits what a leaked one is worth, and an expired one is still
// accepted as id_token_hint (RP-Initiated Logout §2).
const DefaultIDTokenLifetime = 10 * time.Minute

// Subject types (OIDC Core §8).
const (
	SubjectPublic   = "public"
	SubjectPairwise = "pairwise"
)

// Prompt values (OIDC Core §3.1.2.1).
const (
	PromptNone          = "none"
	PromptLogin         = "login"
	PromptConsent       = "consent"
	PromptSelectAccount = "select_account"
)

// Response modes of the authorization endpoint: query and fragment (OAuth
// 2.0 Multiple Response Type Encoding Practices §2.1) and form_post (OAuth
// 2.0 Form Post Response Mode §2).
const (
	ResponseModeQuery    = "query"
	ResponseModeFragment = "fragment"
	ResponseModeFormPost = "form_post"
)

// OpenIDOptions turns the Server into an OpenID Provider ([Options.OpenID]).
// Requests without the openid scope are not affected.
type OpenIDOptions struct {
	// IDTokenLifetime is the lifetime of ID tokens. Optional. Default
	// [DefaultIDTokenLifetime]; negative is an error.
	IDTokenLifetime time.Duration
	// PairwiseSubjectKey is the secret from which pairwise subject
	// identifiers are derived (OIDC Core §8.1): HMAC-SHA256 of the client's
	// sector and the user's ID, so that two clients of different sectors
	// cannot correlate a user. Optional; at least 32 bytes. Required for
	// clients whose SubjectType is pairwise. SECURITY: changing it changes
	// every pairwise subject, which relying parties see as new users.
	PairwiseSubjectKey []byte
	// Scopes are the scopes listed in Discovery besides openid and the
	// standard claim scopes (profile, email, address, phone). Optional.
	Scopes []string
	// ACRValues are the Authentication Context Class References the login
	// step can report, listed in Discovery (acr_values_supported).
	// Optional.
	ACRValues []string
}

// Authentication is what the login step reports about how the user
// authenticated (OIDC Core §2): it becomes auth_time, acr and amr of the ID
// tokens issued for the request.
type Authentication struct {
	// Time is when the user last actively authenticated; a silent session
	// resumption does not change it. Required for requests with
	// max_age or prompt=login.
	Time time.Time
	// ACR is the Authentication Context Class Reference satisfied, if any.
	ACR string
	// AMR lists the authentication methods used (RFC 8176 values, e.g.
	// "pwd", "otp").
	AMR []string
}

// OpenIDSession is what an OpenID Connect authentication adds to an
// authorization code and to the tokens issued from it; nil when the
// request was plain OAuth. Models store it as they store the other fields
// and return it unchanged.
type OpenIDSession struct {
	// Nonce is the nonce of the authentication request, echoed in the ID
	// token of the code exchange. Empty on tokens: an ID token
	// issued on refresh has no nonce.
	Nonce string
	// AuthTime, ACR and AMR are the [Authentication] of the login.
	AuthTime time.Time
	ACR      string
	AMR      []string
	// Claims is the claims request parameter (OIDC Core §5.5) as
	// validated, JSON; "" when none was sent.
	Claims string
}

// Clone returns a deep copy of o (nil for nil), for models that copy what
// they store.
func (o *OpenIDSession) Clone() *OpenIDSession {
	if o == nil {
		return nil
	}
	c := *o
	c.AMR = slices.Clone(o.AMR)
	return &c
}

// UserClaimsModel returns the claims of a user for OpenID Connect (OIDC
// Core §5.1): "name", "email", "email_verified", "address" (an object),
// and so on. The Server releases only those the granted scopes and the
// claims request allow, and sets "sub" itself. Not found is (nil, nil).
// Required with [Options.OpenID].
type UserClaimsModel interface {
	GetUserClaims(ctx context.Context, userID string) (map[string]any, error)
}

// ScopeClaims maps the standard scopes to the claims they release (OIDC
// Core §5.4).
var ScopeClaims = map[string][]string{
	"profile": {"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"},
	"email":   {"email", "email_verified"},
	"address": {"address"},
	"phone":   {"phone_number", "phone_number_verified"},
}

// standardScopes are the scopes of ScopeClaims in a fixed order.
var standardScopes = []string{"profile", "email", "address", "phone"}

// openID is the set-up state of Options.OpenID.
type openID struct {
	opts   OpenIDOptions
	claims UserClaimsModel
	// idKeys are the keys that sign ID tokens, by algorithm: the active
	// key for its algorithm, the first private key otherwise.
	idKeys map[string]*jwtKey
	// defaultAlg signs the ID tokens of a client that registered no
	// algorithm: RS256 (OIDC Core §15.1), or under the FAPI 2.0 profile
	// the active key's FAPI algorithm.
	defaultAlg string
}

// setupOpenID validates Options.OpenID; the keys are set up by setupJWT.
func (s *Server) setupOpenID() error {
	o := s.opts.OpenID
	if o == nil {
		return nil
	}
	oo := *o
	oo.Scopes = slices.Clone(o.Scopes)
	oo.ACRValues = slices.Clone(o.ACRValues)
	s.opts.OpenID = &oo
	if s.opts.Issuer == "" {
		return errorf("OpenID Connect needs Issuer, the iss of every ID token (OIDC Core §2)")
	}
	switch {
	case oo.IDTokenLifetime == 0:
		oo.IDTokenLifetime = DefaultIDTokenLifetime
	case oo.IDTokenLifetime < 0:
		return errorf("OpenID.IDTokenLifetime must not be negative")
	}
	if oo.PairwiseSubjectKey != nil && len(oo.PairwiseSubjectKey) < 32 {
		return errorf("OpenID.PairwiseSubjectKey must be at least 32 bytes")
	}
	claims, ok := Capability[UserClaimsModel](s.model)
	if !ok {
		return errorf("OpenID Connect needs UserClaimsModel (GetUserClaims), which the model does not implement")
	}
	if !s.GrantEnabled(GrantAuthorizationCode) {
		return errorf("OpenID Connect needs the authorization_code grant, which is not enabled")
	}
	s.oidc = &openID{opts: oo, claims: claims}
	return nil
}

// setupIDTokenKeys chooses the ID token keys once the keys are parsed.
func (s *Server) setupIDTokenKeys() error {
	if s.opts.OpenID == nil {
		return nil
	}
	ks := s.jwt
	idKeys := map[string]*jwtKey{ks.active.alg: ks.active}
	for _, k := range ks.byKID {
		if k.signer != nil && idKeys[k.alg] == nil {
			idKeys[k.alg] = k
		}
	}
	for _, k := range idKeys {
		if err := k.prepareIDTokenHeader(); err != nil {
			return err
		}
	}
	defaultAlg := AlgRS256
	if s.fapi {
		// the FAPI 2.0 profile signs with PS256, ES256 or EdDSA
		// only, so a client that registered no algorithm gets the active
		// key's (or the first FAPI key's), never the RS256 default.
		defaultAlg = ""
		for _, alg := range append([]string{ks.active.alg}, fapiAlgorithms...) {
			if idKeys[alg] != nil && slices.Contains(fapiAlgorithms, alg) {
				defaultAlg = alg
				break
			}
		}
		if defaultAlg == "" {
			return errorf("FAPI 2.0 profile (R-194): ID tokens need an ES256 or EdDSA private key among SigningKeys")
		}
	} else if idKeys[AlgRS256] == nil {
		return errorf("OpenID Connect needs an RS256 (RSA) private key among SigningKeys: RS256 is the " +
			"ID token algorithm of every client that registered no other (OIDC Core §15.1)")
	}
	// setupOpenID runs before the keys: keep what it set up.
	if s.oidc == nil {
		s.oidc = &openID{}
	}
	s.oidc.idKeys, s.oidc.defaultAlg = idKeys, defaultAlg
	return nil
}

// prepareIDTokenHeader sets the JOSE header of the key's ID tokens: typ
// JWT, not at+jwt, so that an ID token is never taken for an access token
// (RFC 9068 §4) nor the other way round.
func (k *jwtKey) prepareIDTokenHeader() error {
	h, err := json.Marshal(map[string]string{"alg": k.alg, "kid": k.kid, "typ": "JWT"})
	if err != nil {
		return errorf("encode JOSE header: %v", err)
	}
	k.idHeader = base64.RawURLEncoding.EncodeToString(h)
	return nil
}

// OpenIDEnabled reports whether the Server is an OpenID Provider.
func (s *Server) OpenIDEnabled() bool { return s.opts.OpenID != nil }

// isOpenID reports whether scope makes a request an OpenID Connect one on
// this Server.
func (s *Server) isOpenID(scope []string) bool {
	return s.opts.OpenID != nil && slices.Contains(scope, ScopeOpenID)
}

// idTokenKey returns the key signing the client's ID tokens.
func (s *Server) idTokenKey(c *Client) (*jwtKey, error) {
	alg := c.IDTokenSignedResponseAlg
	if alg == "" {
		alg = s.oidc.defaultAlg
	}
	k := s.oidc.idKeys[alg]
	if k == nil || (s.fapi && !slices.Contains(fapiAlgorithms, alg)) {
		return nil, errIDTokenAlg
	}
	return k, nil
}

// Subject returns the sub of userID for client (OIDC Core §8): the user ID
// itself for public subjects, an HMAC of the client's sector and the user
// ID for pairwise ones. Every ID token and UserInfo answer uses it.
func (s *Server) Subject(c *Client, userID string) (string, error) {
	if c.SubjectType == "" || c.SubjectType == SubjectPublic || s.oidc == nil {
		if len(userID) > maxSubject {
			return "", errorf("user ID %.16q... is longer than the 255 characters a sub may have (OIDC Core §2)", userID)
		}
		return userID, nil
	}
	if c.SubjectType != SubjectPairwise {
		return "", errorf("client %q has SubjectType %q; want public or pairwise", c.ID, c.SubjectType)
	}
	key := s.opts.OpenID.PairwiseSubjectKey
	if key == nil {
		return "", errorf("client %q has pairwise subjects, but OpenID.PairwiseSubjectKey is not set", c.ID)
	}
	sector, err := SectorIdentifier(c)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(sector))
	m.Write([]byte{0})
	m.Write([]byte(userID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// maxSubject is the longest sub OIDC Core §2 allows.
const maxSubject = 255

// SectorIdentifier returns the sector of a client with pairwise subjects
// (OIDC Core §8.1): Client.SectorIdentifier when set, else the host of
// its redirect URIs, which must then all share one host.
func SectorIdentifier(c *Client) (string, error) {
	if c.SectorIdentifier != "" {
		return c.SectorIdentifier, nil
	}
	host := ""
	for _, r := range c.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return "", errorf("client %q: redirect URI %q has no host to derive the pairwise sector from; set SectorIdentifier", c.ID, r)
		}
		switch h := u.Hostname(); {
		case host == "":
			host = h
		case host != h:
			return "", errorf("client %q: redirect URIs span several hosts; set SectorIdentifier (OIDC Core §8.1)", c.ID)
		}
	}
	if host == "" {
		return "", errorf("client %q has no redirect URI to derive the pairwise sector from; set SectorIdentifier", c.ID)
	}
	return host, nil
}

// idTokenParams is what one ID token says beyond the fixed claims.
type idTokenParams struct {
	client      *Client
	userID      string
	session     *OpenIDSession // may be nil (device grant)
	scope       []string       // granted
	nonce       string
	accessToken string
}

// issueIDToken signs the ID token of a token response (OIDC Core §3.1.3.3,
// §12.2): iss, sub, aud, exp, iat, auth_time, nonce, acr, amr, at_hash,
// and the claims the claims request asked for in the ID token.
func (s *Server) issueIDToken(ctx context.Context, p *idTokenParams) (string, error) {
	k, err := s.idTokenKey(p.client)
	if err != nil {
		return "", err
	}
	sub, err := s.Subject(p.client, p.userID)
	if err != nil {
		return "", err
	}
	now := s.now().Truncate(time.Second)
	var extra map[string]any
	if p.session != nil && p.session.Claims != "" {
		cr, err := ParseClaimsRequest(p.session.Claims)
		if err == nil && len(cr.IDToken) > 0 {
			if extra, err = s.releasedClaims(ctx, p.userID, nil, cr.IDToken, p.scope); err != nil {
				return "", err
			}
		}
	}

	b := make([]byte, 0, 512)
	b = append(b, `{"iss":`...)
	b = appendJSONString(b, s.opts.Issuer)
	b = append(b, `,"sub":`...)
	b = appendJSONString(b, sub)
	b = append(b, `,"aud":`...)
	b = appendJSONString(b, p.client.ID)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, now.Add(s.opts.OpenID.IDTokenLifetime).Unix(), 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, now.Unix(), 10)
	if p.session != nil {
		if !p.session.AuthTime.IsZero() {
			b = append(b, `,"auth_time":`...)
			b = strconv.AppendInt(b, p.session.AuthTime.Unix(), 10)
		}
		if p.session.ACR != "" {
			b = append(b, `,"acr":`...)
			b = appendJSONString(b, p.session.ACR)
		}
		if len(p.session.AMR) > 0 {
			b = append(b, `,"amr":[`...)
			for i, m := range p.session.AMR {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, m)
			}
			b = append(b, ']')
		}
	}
	if p.nonce != "" {
		b = append(b, `,"nonce":`...)
		b = appendJSONString(b, p.nonce)
	}
	if p.accessToken != "" {
		b = append(b, `,"at_hash":"`...)
		b = appendTokenHash(b, k.alg, p.accessToken)
		b = append(b, '"')
	}
	if len(extra) > 0 {
		keys := make([]string, 0, len(extra))
		for c := range extra {
			keys = append(keys, c)
		}
		slices.Sort(keys)
		for _, c := range keys {
			v, err := json.Marshal(extra[c])
			if err != nil {
				return "", storeError("GetUserClaims", err)
			}
			b = append(b, ',')
			b = appendJSONString(b, c)
			b = append(b, ':')
			b = append(b, v...)
		}
	}
	b = append(b, '}')
	tok, err := k.signJWS(k.idHeader, b)
	if err != nil {
		return "", storeError("sign ID token", err)
	}
	return tok, nil
}

// appendTokenHash appends at_hash / c_hash (OIDC Core §3.1.3.6), base64url:
// the left half of the hash of the token's ASCII octets, with the hash of
// the JWS algorithm (SHA-256 for RS256 and ES256, SHA-512 for EdDSA with
// Ed25519).
func appendTokenHash(b []byte, alg, token string) []byte {
	enc := base64.RawURLEncoding
	// The token is copied to the stack first: []byte(token) of more than
	// 32 bytes would be a heap allocation per ID token.
	var stack [128]byte
	in := append(stack[:0], token...)
	if alg == AlgEdDSA {
		sum := sha512.Sum512(in)
		return enc.AppendEncode(b, sum[:len(sum)/2])
	}
	sum := sha256.Sum256(in)
	return enc.AppendEncode(b, sum[:len(sum)/2])
}

// releasedClaims returns the claims of userID that may be released: every
// claim of the standard scopes in release, and each claim named in
// requested (a claims request member) whose standard scope is in granted.
// A claim nobody consented to through its scope is never released, even
// when a claims request names it.
func (s *Server) releasedClaims(ctx context.Context, userID string, release []string,
	requested map[string]*ClaimRequest, granted []string) (map[string]any, error) {
	all, err := s.oidc.claims.GetUserClaims(ctx, userID)
	if err != nil {
		return nil, storeError("GetUserClaims", err)
	}
	if all == nil {
		return nil, nil
	}
	out := make(map[string]any)
	for _, sc := range release {
		for _, c := range ScopeClaims[sc] {
			if v, ok := all[c]; ok && v != nil {
				out[c] = v
			}
		}
	}
	for c := range requested {
		if v, ok := all[c]; ok && v != nil && claimAllowed(c, granted) {
			out[c] = v
		}
	}
	return out, nil
}

// claimAllowed reports whether claim belongs to a standard scope that is
// in granted.
func claimAllowed(claim string, granted []string) bool {
	for _, sc := range standardScopes {
		if slices.Contains(ScopeClaims[sc], claim) && slices.Contains(granted, sc) {
			return true
		}
	}
	return false
}

// ClaimRequest is one entry of a claims request (OIDC Core §5.5.1): null
// in JSON (a nil *ClaimRequest) asks for the claim as voluntary.
type ClaimRequest struct {
	Essential bool  `json:"essential,omitempty"`
	Value     any   `json:"value,omitempty"`
	Values    []any `json:"values,omitempty"`
}

// ClaimsRequest is the claims request parameter (OIDC Core §5.5).
type ClaimsRequest struct {
	UserInfo map[string]*ClaimRequest `json:"userinfo,omitempty"`
	IDToken  map[string]*ClaimRequest `json:"id_token,omitempty"`
}

// maxClaimsRequest bounds the claims parameter: a request names at most
// every standard claim twice.
const maxClaimsRequest = 4 << 10

// ParseClaimsRequest parses and validates the claims request parameter:
// a JSON object with optional userinfo and id_token members, each an
// object of claim names to null or {essential, value, values}, at most 4
// KiB.
func ParseClaimsRequest(raw string) (*ClaimsRequest, error) {
	if len(raw) > maxClaimsRequest {
		return nil, errClaimsParam
	}
	var cr ClaimsRequest
	dec := json.NewDecoder(strings.NewReader(raw))
	if err := dec.Decode(&cr); err != nil || dec.More() {
		return nil, errClaimsParam
	}
	return &cr, nil
}

var (
	errIDTokenAlg = oerrors.ErrUnauthorizedClient.WithDescription(
		"The client's ID token signing algorithm is not available on this server.")
	errClaimsParam = oerrors.ErrInvalidRequest.WithDescription(
		"The claims parameter is not a valid claims request (OpenID Connect Core section 5.5).")
)
