package oauth2server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/echo-oauth2/oauth2server/internal/form"
)

// Defaults of [Options].
const (
	DefaultAccessTokenLifetime       = time.Hour
	DefaultRefreshTokenLifetime      = 14 * 24 * time.Hour
	DefaultAuthorizationCodeLifetime = 60 * time.Second
	// MaxAuthorizationCodeLifetime caps [Options.AuthorizationCodeLifetime]
	// (RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10
	// minutes is RECOMMENDED").
	MaxAuthorizationCodeLifetime = 10 * time.Minute
	// DefaultRealm is the realm of WWW-Authenticate challenges.
	DefaultRealm = "oauth2server"
)

// DefaultMaxBodyBytes is the default of [Options.MaxBodyBytes]: OAuth forms
// are a few hundred bytes.
const DefaultMaxBodyBytes = form.DefaultMaxBytes

// Options configures a [Server]. The zero value is a safe configuration:
// every field documents its default. [New] fills the defaults once, on its
// own copy ([Server.Options] returns it).
//
// Zero always means the default. A negative count (a cap or a throttle's
// budget) disables that limit; a negative duration or size is an error,
// except where a field says otherwise.
type Options struct {
	// Issuer is the authorization server's issuer identifier, an https URL
	// without query or fragment (RFC 8414 §2). It is returned as "iss" in
	// authorization responses (RFC 9207), JWT access tokens and metadata.
	// Optional for the token endpoint alone.
	Issuer string

	// Grants restricts the server to exactly these grant types (and
	// password when AllowPasswordGrant is set). Optional.
	// Default nil: every built-in grant the model supports, except
	// password (see AllowPasswordGrant) and the device grant without
	// Device.VerificationURI, plus ExtensionGrants. A listed grant whose
	// model capability is missing makes [New] fail with an error naming it.
	// To turn the password grant on, set AllowPasswordGrant; do not list
	// it here, which would turn every other grant off.
	Grants []string

	// AllowPasswordGrant enables the resource owner password credentials
	// grant (RFC 6749 §4.3) beside the others. Optional. Default false:
	// RFC 9700 §2.4 says it MUST NOT be used; it needs [PasswordModel] and
	// is guarded by LoginThrottle. Listing "password" in Grants without it
	// is an error.
	AllowPasswordGrant bool

	// ExtensionGrants registers extension grants by their absolute-URI
	// grant_type (RFC 6749 §4.5). Optional.
	ExtensionGrants map[string]ExtensionGrant

	// AccessTokenLifetime is the lifetime of access tokens. Optional.
	// Default 1 hour. [Client.AccessTokenLifetime] overrides it.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime is the lifetime of refresh tokens. Optional.
	// Default 14 days. [Client.RefreshTokenLifetime] overrides it.
	RefreshTokenLifetime time.Duration
	// AuthorizationCodeLifetime is the lifetime of authorization codes.
	// Optional. Default 60 seconds; more than 10 minutes is an error.
	AuthorizationCodeLifetime time.Duration

	// DisableRefreshTokenRotation stops issuing a new refresh token on each
	// refresh for confidential clients (node's alwaysIssueNewRefreshToken =
	// false). Optional. Default false: rotation is on. Public clients are
	// always rotated (RFC 9700 §4.14.2).
	DisableRefreshTokenRotation bool

	// RequireClientAuthentication says, per grant type, whether public
	// clients are refused (true) or may use the grant by sending only their
	// client_id (false). Optional. Defaults: authorization_code,
	// refresh_token and device_code false; password and extension grants
	// true; client_credentials is always true and cannot be changed (RFC
	// 6749 §4.4). Confidential clients always authenticate, whatever this
	// says (RFC 6749 §3.2.1).
	RequireClientAuthentication map[string]bool

	// AllowExtendedTokenAttributes copies [Token.Extra] into token
	// responses (node's allowExtendedTokenAttributes). Optional. Default
	// false. Standard members are never overwritten.
	AllowExtendedTokenAttributes bool

	// AllowPlainPKCE accepts code_challenge_method=plain. Optional.
	// Default false: only S256 (RFC 7636 §7.2, RFC 9700 §2.1.1).
	AllowPlainPKCE bool
	// RequirePKCE requires PKCE of confidential clients too (OAuth 2.1,
	// FAPI 2). Optional. Default false; public clients always need PKCE.
	RequirePKCE bool

	// JWT switches access tokens from opaque strings to signed JWTs (RFC
	// 9068); see docs/jwt.md. Optional. Default nil: opaque tokens, looked
	// up through [AccessTokenModel]. JWT access tokens need Issuer, Audience,
	// signing keys and a model that implements [RevokedJTIModel]; [New]
	// fails naming what is missing.
	JWT *JWTOptions

	// OpenID makes the Server an OpenID Provider (OIDC Core 1.0): requests
	// with the openid scope get ID tokens, and the UserInfo, Discovery and
	// end session endpoints can be mounted; see docs/openid-connect.md.
	// Optional. Default nil: plain OAuth. It needs Issuer, signing keys with
	// an RS256 private key (or AllowGeneratedKeys), the authorization_code
	// grant and a model that implements [UserClaimsModel]; [New] fails
	// naming what is missing.
	OpenID *OpenIDOptions

	// SigningKeys are the keys of every JWT the server signs (JWT access
	// tokens, ID tokens): exactly one is active and signs access tokens,
	// the others (previous keys, kept during a rotation) only verify and
	// are still published in the JWKS; ID tokens are signed with the
	// active key of their algorithm, or the first private key of it.
	// Required with JWT or OpenID unless AllowGeneratedKeys is set; keys
	// without anything to sign are an error. Parsed once by [New].
	SigningKeys []SigningKey
	// AllowGeneratedKeys lets [New] generate an in-memory signing key when
	// SigningKeys is empty. Optional. Default false: JWT without keys is an
	// error. A generated key changes on every restart, which invalidates
	// every issued JWT and breaks multi-instance deployments; use it only
	// for development and tests.
	AllowGeneratedKeys bool
	// GeneratedKeyAlgorithm is the algorithm of a generated key: "RS256",
	// "ES256" or "EdDSA". Optional. Default "RS256" (RFC 9068 §4).
	GeneratedKeyAlgorithm string

	// Audience is the "aud" claim of JWT access tokens: the default
	// resource indicator (RFC 9068 §3), checked by the verifier. Required
	// with JWT; for opaque tokens it is only reported by introspection when
	// set. A token requested for resources (Resources) has those as its
	// audience instead.
	Audience string
	// Resources are the resource indicators (RFC 8707), absolute URIs
	// without fragment, that every client may request tokens for with the
	// resource parameter; such a token's audience is the resources named.
	// A model implementing [ResourceValidator] decides per client instead.
	// Optional. Default none: a resource parameter is invalid_target. See
	// docs/resources.md.
	Resources []string
	// AllowEmptyState accepts authorization requests without a state
	// parameter. Optional. Default false: state is required, because it is
	// the client's CSRF defence on its redirect URI (RFC 6749 §10.12) and
	// PKCE protects only the code flow.
	AllowEmptyState bool
	// AllowImplicitGrant enables response_type=token, the implicit grant
	// (RFC 6749 §4.2). Optional. Default false. LEGACY: RFC 9700 §2.1.2 says
	// clients should not use it, because the token travels in the URL
	// fragment and cannot be sender-constrained; use the code flow with PKCE.
	// Implicit responses never carry a refresh token.
	AllowImplicitGrant bool

	// RequireTLS refuses, with invalid_request, every request to an
	// endpoint that did not arrive over TLS (RFC 6749 §2.3.1, §3.1, §3.2;
	// RFC 7009 §2; RFC 7662 §4; RFC 6750 §5.3 in the middleware): r.TLS is
	// set, or the peer is a trusted proxy that sends X-Forwarded-Proto:
	// https. Optional. Default false, which suits development on loopback
	// and deployments whose TLS-terminating proxy alone is reachable; set it
	// in production whenever the server could be reached without TLS.
	RequireTLS bool
	// TrustedProxies lists the reverse proxies (IP addresses or CIDR
	// prefixes) whose forwarded headers are believed: X-Forwarded-Proto
	// for RequireTLS, and X-Forwarded-For for [Server.ClientAddress], the
	// source address of every per-address throttle. Optional. Default
	// none: forwarded headers are ignored, because any client can send
	// them (RFC 9700 §4.13). A trusted proxy must overwrite
	// X-Forwarded-Proto and append the address it saw to X-Forwarded-For.
	//
	// SECURITY: behind a proxy, list it. Otherwise every request seems to
	// come from the proxy's address, and the per-address limits (device
	// authorizations, failed logins, user code guesses) are shared by all
	// clients, so one stranger can use them up for everybody.
	TrustedProxies []string

	// MaxBodyBytes caps request bodies, and the query of authorization
	// requests. Optional. Default [DefaultMaxBodyBytes] (64 KiB). A larger
	// body is answered 413 invalid_request.
	MaxBodyBytes int64
	// MaxScopeTokens caps the number of scope tokens of a request's scope
	// parameter; more is answered invalid_request at once, before any
	// storage is asked. Optional. Default 100; negative disables
	// the cap.
	MaxScopeTokens int
	// MaxScopeBytes caps the length of a scope parameter in bytes, likewise.
	// Optional. Default 4 KiB; negative disables the cap.
	MaxScopeBytes int

	// Assertions configures JWT assertions: client authentication by
	// private_key_jwt and client_secret_jwt, the JWT bearer grant and the
	// JWTs of trusted issuers in token exchange. Optional. The zero value
	// is the default (see [AssertionOptions]).
	Assertions AssertionOptions

	// Profile enforces a security profile as a whole: [ProfileFAPI2], the
	// FAPI 2.0 Security Profile, sets what it requires (PAR, PKCE, DPoP,
	// no refresh token rotation, TLS with an https Issuer) and makes [New]
	// refuse any option that relaxes it, naming the rule; see docs/fapi.md.
	// Optional. Default "": none.
	Profile Profile

	// DPoP turns on sender-constrained access tokens (RFC 9449): a token
	// request with a valid DPoP proof gets a token bound to the proof's
	// key, and resource servers require a proof of that key with it; see
	// docs/dpop.md. Optional. Default nil: the authorization server
	// ignores DPoP headers and issues bearer tokens (RFC 9449 §5: the
	// client learns it from token_type).
	DPoP *DPoPOptions

	// PAR configures pushed authorization requests (RFC 9126), served
	// when the model implements [PushedAuthorizationRequestModel]; see
	// docs/par.md. Optional. The zero value is the default (see
	// [PAROptions]).
	PAR PAROptions

	// Device configures the device authorization grant (RFC 8628).
	// Optional. The grant is enabled when Device.VerificationURI is set and
	// the model implements [DeviceCodeModel].
	Device DeviceOptions

	// LoginThrottle configures the failure throttle of the password grant
	// ([Server.LoginThrottle]): growing delays per username, a budget per
	// source address, failures only. Optional. The zero value is the
	// default (see [LoginThrottleOptions]).
	LoginThrottle LoginThrottleOptions

	// Realm is the realm of WWW-Authenticate challenges. Optional. Default
	// "oauth2server".
	Realm string

	// Now returns the current time. Optional. Default time.Now. Inject a
	// clock in tests instead of patching globals.
	Now func() time.Time

	// Rand is the source of randomness for default token, code and grant
	// identifiers. Optional. Default crypto/rand. It must be a
	// cryptographically secure source.
	Rand io.Reader

	// Logger receives server-side faults (the causes of server_error
	// answers), which are never shown to clients. Optional. Default
	// slog.Default().
	Logger *slog.Logger

	// OnEvent receives the audit events of the Server ([Event]): tokens
	// issued, refresh rotation and reuse, code replay, revocation,
	// introspection, failed client authentication, consent and device
	// decisions. It is called synchronously on the request's goroutine:
	// hand slow work (a remote log) to a queue. Events carry no secret,
	// token or code. Optional. Default nil: no events.
	OnEvent func(ctx context.Context, e Event)
}

// ExtensionGrant handles an extension grant type (RFC 6749 §4.5) registered
// in [Options.ExtensionGrants].
type ExtensionGrant interface {
	// HandleGrant validates the request of an authenticated (or, for a
	// public client, identified) client and returns what to issue. Return
	// an *errors.Error (e.g. errors.ErrInvalidGrant) to refuse.
	HandleGrant(ctx context.Context, req *TokenRequest) (*GrantResult, error)
}

// ExtensionGrantFunc adapts a function to [ExtensionGrant].
type ExtensionGrantFunc func(ctx context.Context, req *TokenRequest) (*GrantResult, error)

// HandleGrant calls f.
func (f ExtensionGrantFunc) HandleGrant(ctx context.Context, req *TokenRequest) (*GrantResult, error) {
	return f(ctx, req)
}

// TokenRequest is a parsed token request whose client was authenticated.
type TokenRequest struct {
	// GrantType is the grant_type parameter.
	GrantType string
	// Client is the authenticated (or identified public) client.
	Client *Client
	// Params holds the body parameters, each present at most once and
	// never empty (RFC 6749 §3.2). An [ExtensionGrant] gets its own copy
	// of every key and value, free to keep: none of them shares memory
	// with the request body.
	Params map[string]string
	// Scope is the parsed scope parameter, nil when absent.
	Scope []string
	// DPoPJKT is the JWK thumbprint of the request's valid DPoP proof (RFC
	// 9449), to which the issued token is bound; empty without a proof.
	DPoPJKT string
	// Resources are the resource parameters (RFC 8707), checked for syntax
	// and, except for the authorization_code and refresh_token grants, which
	// check them against the grant, allowed for the client. They become the
	// access token's audience.
	Resources []string
	// HTTPRequest is the underlying request.
	HTTPRequest *http.Request
}

// GrantResult is what an [ExtensionGrant] decided to issue.
type GrantResult struct {
	// User is the resource owner, or nil.
	User *User
	// Scope is the scope to grant. It is passed through ValidateScope.
	Scope []string
	// IssueRefreshToken asks for a refresh token too (only when the
	// refresh_token grant is enabled and the client may use it).
	IssueRefreshToken bool
	// Extra becomes [Token.Extra].
	Extra map[string]any
}

func (o *Options) validateIssuer() error {
	if o.Issuer == "" {
		return nil
	}
	u, err := url.Parse(o.Issuer)
	if err != nil || u.Scheme == "" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return errorf("Issuer %q must be an absolute URL without query or fragment", o.Issuer)
	}
	if u.Scheme != "https" && !isLoopbackHost(u.Hostname()) {
		return errorf("Issuer %q must use https (http only on loopback, for development)", o.Issuer)
	}
	return nil
}

// JWTOptions turns on JWT access tokens ([Options.JWT]).
type JWTOptions struct {
	// Leeway is the clock skew tolerated when [Server.ValidateAccessToken]
	// checks exp and iat of a JWT. Optional. Default 30 seconds; negative
	// disables it (no leeway); more than 5 minutes is an error.
	// Introspection, done on the server's own clock, uses no leeway.
	Leeway time.Duration
}

// DeviceOptions configures the device authorization grant ([Options.Device]).
type DeviceOptions struct {
	// VerificationURI is the end-user verification URI (RFC 8628 §3.2):
	// the page of your application where the user enters the user code.
	// Required for the grant, which is enabled by default only when it is
	// set and the model implements [DeviceCodeModel]. An absolute https URL
	// (http only on loopback) without fragment.
	VerificationURI string
	// CodeLifetime is the lifetime of device codes and user codes.
	// Optional. Default 10 minutes.
	CodeLifetime time.Duration
	// Interval is the minimum polling interval announced to device
	// clients. Optional. Default 5 seconds (RFC 8628 §3.2); it is sent in
	// whole seconds, at least 1.
	Interval time.Duration

	// MaxPendingPerAddress caps the device authorizations one source
	// address ([Server.ClientAddress]) may start within CodeLifetime; above
	// it [Server.DeviceAuthorization] answers 429 slow_down with
	// Retry-After and stores no device code. Windows are fixed, so at most
	// twice this many are pending at any moment. Optional. Default 20;
	// negative disables it.
	MaxPendingPerAddress int
	// MaxPendingPerClient caps, likewise, the device authorizations of one
	// client: a public client needs no credential, so this bounds what
	// strangers can make the store hold in its name. Checked after the
	// per-address cap, so one address cannot exhaust it alone.
	// Optional. Default 10000; negative disables it.
	MaxPendingPerClient int

	// UserCodeMaxFailures bounds user code guessing per source address
	// (see [WithAttemptKey]): after this many unknown user codes within
	// UserCodeFailureWindow, [Server.LookupUserCode] answers
	// [ErrTooManyAttempts] for that address. Optional. Default 10; negative
	// disables it.
	UserCodeMaxFailures int
	// UserCodeMaxAccountFailures bounds user code guessing per account
	// (see [WithAttemptAccount], the user who enters the code), so that one
	// account with many addresses is bounded too. There is no global
	// budget: one guesser could exhaust it and lock every user out of code
	// entry. Optional. Default 10; negative disables it.
	UserCodeMaxAccountFailures int
	// UserCodeFailureWindow is the window of the two limits above.
	// Optional. Default 10 minutes.
	UserCodeFailureWindow time.Duration
}
