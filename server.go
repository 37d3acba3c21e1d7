package oauth2server

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/counter"
)

// Server is an OAuth 2.0 authorization server. Create it with [New]; it is
// safe for concurrent use and holds no per-request state.
type Server struct {
	model Model
	opts  Options

	// Capabilities, asserted once in New (nil when absent).
	accessTokens AccessTokenModel
	refresh      RefreshTokenModel
	families     GrantModel
	codes        AuthorizationCodeModel
	redeem       CodeRedemptionModel
	users        PasswordModel
	clientUsers  ClientUserModel
	genAccess    AccessTokenGenerator
	genRefresh   RefreshTokenGenerator
	genCode      AuthorizationCodeGenerator
	scopes       ScopeValidator
	verifier     ScopeVerifier
	redirects    RedirectURIValidator
	devices      DeviceCodeModel
	consents     ConsentModel
	consentList  ConsentListModel
	consentIDs   ConsentLookupModel
	grantList    GrantListModel
	pars         PushedAuthorizationRequestModel
	resources    ResourceValidator

	dpop *dpopConfig // nil without Options.DPoP
	fapi bool        // Options.Profile is ProfileFAPI2

	jtis RevokedJTIModel
	// counters keeps every throttle's state: the model's CounterModel, or
	// a bounded in-process store.
	counters CounterModel
	login    *LoginThrottle
	// deviceFull remembers, in this process, the device buckets found
	// full until their windows end.
	deviceFull *counter.Store

	jwt       *jwtKeys // nil when the Server signs no JWT
	jwtAccess bool     // access tokens are JWTs (Options.JWT)
	oidc      *openID  // nil without Options.OpenID
	assert    *assertionState

	proxies []netip.Prefix // Options.TrustedProxies, parsed

	grants     map[string]grantFunc
	grantTypes []string
	publicOK   map[string]bool
}

// grantFunc validates a token request for one grant and says what to issue.
type grantFunc func(ctx context.Context, req *TokenRequest) (*issue, error)

// issue is what a grant decided: the token the server then generates,
// saves and returns.
type issue struct {
	user         *User
	userID       string
	scope        []string
	grantID      string
	refresh      bool
	extra        map[string]any
	refreshScope []string // refresh token scope when narrower access scope
	// openID is the OpenID Connect session the token joins (nil for plain
	// OAuth), and nonce the nonce of its ID token (only at a code
	// exchange). An ID token is issued when openID is set and the scope
	// has openid.
	openID *OpenIDSession
	nonce  string
	// idToken is set when the grant may return an ID token without a
	// stored session (the device grant).
	idToken bool
	// signedIDToken is the ID token issueToken signed, before it saved
	// the tokens; "" when none is due.
	signedIDToken string
	// Token exchange: the new token's audience and actor, the latest
	// expiry of its access token, and the issued_token_type to answer.
	audience   string
	actor      *Actor
	notAfter   time.Time
	issuedType string
	// jkt is the thumbprint of the DPoP key the token is bound to, "" for
	// a bearer token.
	jkt string
	// code is the authorization code the token is bought with when the
	// model redeems codes and saves tokens in one step
	// (CodeRedemptionModel): issueToken spends it as it saves the token.
	// Nil otherwise, the code being spent by the grant already.
	code *AuthorizationCode
	// resources is the audience of the access token (RFC 8707), and
	// grantResources those of the refresh token when wider; resourcesSet
	// says the grant decided them (codes and refresh tokens).
	resources, grantResources []string
	resourcesSet              bool
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("oauth2server: "+format, args...)
}

// New returns a Server for model. It fills defaults on its own copy of opts
// and reports every misconfiguration as an error: an enabled grant whose
// model capability is missing, a code lifetime over 10 minutes, an invalid
// issuer or extension grant type.
func New(model Model, opts Options) (*Server, error) {
	if model == nil {
		return nil, errorf("model is nil")
	}
	s := &Server{model: model, opts: opts}
	o := &s.opts
	if o.AccessTokenLifetime == 0 {
		o.AccessTokenLifetime = DefaultAccessTokenLifetime
	}
	if o.RefreshTokenLifetime == 0 {
		o.RefreshTokenLifetime = DefaultRefreshTokenLifetime
	}
	if o.AuthorizationCodeLifetime == 0 {
		o.AuthorizationCodeLifetime = DefaultAuthorizationCodeLifetime
	}
	if o.AccessTokenLifetime < 0 || o.RefreshTokenLifetime < 0 || o.AuthorizationCodeLifetime < 0 {
		return nil, errorf("token lifetimes must not be negative")
	}
	if o.AuthorizationCodeLifetime > MaxAuthorizationCodeLifetime {
		return nil, errorf("AuthorizationCodeLifetime %s exceeds the maximum of %s (RFC 6749 §4.1.2)",
			o.AuthorizationCodeLifetime, MaxAuthorizationCodeLifetime)
	}
	if o.MaxBodyBytes < 0 {
		return nil, errorf("MaxBodyBytes must not be negative")
	}
	o.MaxBodyBytes = cmp.Or(o.MaxBodyBytes, DefaultMaxBodyBytes)
	if o.Realm == "" {
		o.Realm = DefaultRealm
	}
	if strings.ContainsAny(o.Realm, "\"\\\r\n") {
		return nil, errorf("Realm must not contain quotes, backslashes or line breaks")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := o.validateIssuer(); err != nil {
		return nil, err
	}
	var err error
	if s.proxies, err = parseProxies(o.TrustedProxies); err != nil {
		return nil, err
	}

	s.accessTokens, _ = Capability[AccessTokenModel](model)
	s.refresh, _ = Capability[RefreshTokenModel](model)
	s.families, _ = Capability[GrantModel](model)
	s.codes, _ = Capability[AuthorizationCodeModel](model)
	s.redeem, _ = Capability[CodeRedemptionModel](model)
	s.users, _ = Capability[PasswordModel](model)
	s.clientUsers, _ = Capability[ClientUserModel](model)
	s.genAccess, _ = Capability[AccessTokenGenerator](model)
	s.genRefresh, _ = Capability[RefreshTokenGenerator](model)
	s.genCode, _ = Capability[AuthorizationCodeGenerator](model)
	s.scopes, _ = Capability[ScopeValidator](model)
	s.verifier, _ = Capability[ScopeVerifier](model)
	s.redirects, _ = Capability[RedirectURIValidator](model)
	s.devices, _ = Capability[DeviceCodeModel](model)
	s.consents, _ = Capability[ConsentModel](model)
	s.consentList, _ = Capability[ConsentListModel](model)
	s.consentIDs, _ = Capability[ConsentLookupModel](model)
	s.grantList, _ = Capability[GrantListModel](model)
	s.jtis, _ = Capability[RevokedJTIModel](model)
	if c, ok := Capability[CounterModel](model); ok {
		s.counters = c
	} else {
		s.counters = newMemoryCounters()
	}
	s.deviceFull = counter.New(1 << 14)
	if s.login, err = NewLoginThrottle(s.counters, o.LoginThrottle, s.now); err != nil {
		return nil, err
	}
	if err := o.fillScopeLimits(); err != nil {
		return nil, err
	}

	if err := s.setupProfile(); err != nil {
		return nil, err
	}
	if err := s.setupAssertions(); err != nil {
		return nil, err
	}
	if err := s.setupDevice(); err != nil {
		return nil, err
	}
	if err := s.setupGrants(); err != nil {
		return nil, err
	}
	if err := s.setupPAR(); err != nil {
		return nil, err
	}
	if err := s.setupDPoP(); err != nil {
		return nil, err
	}
	if err := s.setupResources(); err != nil {
		return nil, err
	}
	if err := s.setupOpenID(); err != nil {
		return nil, err
	}
	if err := s.setupJWT(); err != nil {
		return nil, err
	}
	if err := s.checkProfileKeys(); err != nil {
		return nil, err
	}
	if !s.CanVerifyAccessTokens() && (len(s.grants) > 0 || o.AllowImplicitGrant) {
		// Every protected request would fail: the server would hand out
		// tokens that nothing here can check, introspect or revoke.
		return nil, errorf("opaque access tokens need AccessTokenModel (GetAccessToken) to be verified, " +
			"which the model does not implement: implement it, or set Options.JWT for self-contained tokens")
	}
	return s, nil
}

// CanVerifyAccessTokens reports whether [Server.ValidateAccessToken] can
// verify the access tokens this server issues: they are JWTs, or the model
// implements [AccessTokenModel]. The middleware package refuses to protect
// routes with a Server that cannot.
func (s *Server) CanVerifyAccessTokens() bool { return s.jwtAccess || s.accessTokens != nil }

// builtinGrant describes a built-in grant: its handler and the capability
// it needs (nil error when present).
type builtinGrant struct {
	name    string
	handler grantFunc
	missing func() string // name of the missing capability, or ""
}

func (s *Server) builtinGrants() []builtinGrant {
	return []builtinGrant{
		{GrantAuthorizationCode, s.grantAuthorizationCode, func() string {
			switch {
			case s.codes == nil:
				return "AuthorizationCodeModel (SaveAuthorizationCode, GetAuthorizationCode, RevokeAuthorizationCode)"
			case s.families == nil:
				return "GrantModel (RevokeGrant, to revoke the tokens of a replayed code)"
			}
			return ""
		}},
		{GrantClientCredentials, s.grantClientCredentials, func() string { return "" }},
		{GrantPassword, s.grantPassword, func() string {
			if s.users == nil {
				return "PasswordModel (GetUser)"
			}
			return ""
		}},
		{GrantRefreshToken, s.grantRefreshToken, func() string {
			switch {
			case s.refresh == nil:
				return "RefreshTokenModel (GetRefreshToken, RevokeToken)"
			case s.families == nil:
				return "GrantModel (RevokeGrant, to revoke the family of a reused refresh token)"
			}
			return ""
		}},
		{GrantDeviceCode, s.grantDeviceCode, s.deviceMissing},
		{GrantJWTBearer, s.grantJWTBearer, func() string {
			if s.assert.issuers == nil {
				return "TrustedIssuerModel (GetTrustedIssuer, GetSubjectUser)"
			}
			return ""
		}},
		{GrantTokenExchange, s.grantTokenExchange, func() string {
			if s.assert.exchange == nil {
				return "TokenExchangeModel (AuthorizeTokenExchange)"
			}
			return ""
		}},
	}
}

func (s *Server) setupGrants() error {
	o := &s.opts
	s.grants = make(map[string]grantFunc)
	builtins := s.builtinGrants()
	if slices.Contains(o.Grants, GrantPassword) && !o.AllowPasswordGrant {
		return errorf("grant %q is listed in Grants: set AllowPasswordGrant to enable it (RFC 9700 §2.4 says it must not be used); "+
			"Grants restricts the server to the grants it lists", GrantPassword)
	}
	if o.Grants == nil {
		for _, g := range builtins {
			if _, ext := o.ExtensionGrants[g.name]; ext {
				// An extension grant of the same type replaces a built-in
				// that is only on by default (a JWT bearer grant of one's
				// own, say).
				continue
			}
			if g.name != GrantPassword && g.missing() == "" {
				s.grants[g.name] = g.handler
				s.grantTypes = append(s.grantTypes, g.name)
			}
		}
	} else {
		for _, name := range o.Grants {
			i := slices.IndexFunc(builtins, func(g builtinGrant) bool { return g.name == name })
			if i < 0 {
				if _, ok := o.ExtensionGrants[name]; ok {
					continue
				}
				return errorf("grant %q is not a built-in grant nor in ExtensionGrants", name)
			}
			if m := builtins[i].missing(); m != "" {
				return errorf("grant %q needs %s, which the model does not implement", name, m)
			}
			if _, dup := s.grants[name]; dup {
				return errorf("grant %q is listed twice", name)
			}
			s.grants[name] = builtins[i].handler
			s.grantTypes = append(s.grantTypes, name)
		}
	}
	if _, listed := s.grants[GrantPassword]; o.AllowPasswordGrant && !listed {
		if s.users == nil {
			return errorf("AllowPasswordGrant needs PasswordModel (GetUser), which the model does not implement")
		}
		s.grants[GrantPassword] = s.grantPassword
		s.grantTypes = append(s.grantTypes, GrantPassword)
	}
	for name, g := range o.ExtensionGrants {
		u, err := url.Parse(name)
		if err != nil || !u.IsAbs() {
			return errorf("extension grant type %q must be an absolute URI (RFC 6749 §4.5)", name)
		}
		if g == nil {
			return errorf("extension grant %q is nil", name)
		}
		if _, dup := s.grants[name]; dup {
			return errorf("extension grant %q collides with a built-in grant", name)
		}
		h := g
		s.grants[name] = func(ctx context.Context, req *TokenRequest) (*issue, error) {
			return s.extensionGrant(ctx, h, req)
		}
		s.grantTypes = append(s.grantTypes, name)
	}
	slices.Sort(s.grantTypes)

	s.publicOK = map[string]bool{
		GrantAuthorizationCode: true,
		GrantRefreshToken:      true,
		GrantDeviceCode:        true,
	}
	for grant, required := range o.RequireClientAuthentication {
		if grant == GrantClientCredentials && !required {
			return errorf("client_credentials always requires client authentication (RFC 6749 §4.4)")
		}
		if grant == GrantTokenExchange && !required {
			return errorf("token exchange always requires client authentication (R-154)")
		}
		s.publicOK[grant] = !required
	}
	s.publicOK[GrantClientCredentials] = false
	return nil
}

// GrantTypes returns the enabled grant types, sorted (for metadata).
func (s *Server) GrantTypes() []string { return slices.Clone(s.grantTypes) }

// GrantEnabled reports whether grantType is enabled.
func (s *Server) GrantEnabled(grantType string) bool {
	_, ok := s.grants[grantType]
	return ok
}

// Options returns a copy of the Server's options with defaults filled in.
func (s *Server) Options() Options { return s.opts }

// Model returns the model the Server was built with.
func (s *Server) Model() Model { return s.model }

// Realm is the realm used in WWW-Authenticate challenges.
func (s *Server) Realm() string { return s.opts.Realm }

// Logger is where server-side faults are logged.
func (s *Server) Logger() *slog.Logger { return s.opts.Logger }

// now returns the current time from the injected clock.
func (s *Server) now() time.Time { return s.opts.Now() }

// storeError wraps a model fault as server_error, keeping the cause for logs.
func storeError(op string, err error) error {
	return oerrors.ServerError(fmt.Errorf("oauth2server: %s: %w", op, err))
}

// newID returns a random identifier for grant families.
func (s *Server) newID() (string, error) {
	id, err := randomString(s.opts.Rand, 16)
	if err != nil {
		return "", storeError("generate id", err)
	}
	return id, nil
}

func (s *Server) newAccessToken(ctx context.Context, c *Client, u *User, scope []string) (string, error) {
	if s.genAccess != nil {
		t, err := s.genAccess.GenerateAccessToken(ctx, c, u, scope)
		if err != nil {
			return "", storeError("GenerateAccessToken", err)
		}
		return t, nil
	}
	t, err := randomString(s.opts.Rand, 32)
	if err != nil {
		return "", storeError("generate access token", err)
	}
	return t, nil
}

func (s *Server) newRefreshToken(ctx context.Context, c *Client, u *User, scope []string) (string, error) {
	if s.genRefresh != nil {
		t, err := s.genRefresh.GenerateRefreshToken(ctx, c, u, scope)
		if err != nil {
			return "", storeError("GenerateRefreshToken", err)
		}
		return t, nil
	}
	t, err := randomString(s.opts.Rand, 32)
	if err != nil {
		return "", storeError("generate refresh token", err)
	}
	return t, nil
}

func (s *Server) newAuthorizationCode(ctx context.Context, c *Client, u *User, scope []string) (string, error) {
	if s.genCode != nil {
		t, err := s.genCode.GenerateAuthorizationCode(ctx, c, u, scope)
		if err != nil {
			return "", storeError("GenerateAuthorizationCode", err)
		}
		return t, nil
	}
	t, err := randomString(s.opts.Rand, 32)
	if err != nil {
		return "", storeError("generate authorization code", err)
	}
	return t, nil
}

// isLoopbackHost reports whether host is a loopback IP literal or
// "localhost".
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LoginThrottle returns the failure throttle of the password grant,
// configured by [Options.LoginThrottle] and kept in the model's
// [CounterModel]. A login page should use it too, so that guesses at the
// page and at the token endpoint draw from one budget per account.
func (s *Server) LoginThrottle() *LoginThrottle { return s.login }
