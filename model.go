package oauth2server

import (
	"context"
	"slices"
	"time"
)

// Grant type identifiers of the grants oauth2server implements.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
	GrantRefreshToken      = "refresh_token"
)

// Client authentication methods at the token endpoint (RFC 7591 §2 names).
const (
	// AuthMethodClientSecretBasic is HTTP Basic with the form-urlencoded
	// client id and secret (RFC 6749 §2.3.1).
	AuthMethodClientSecretBasic = "client_secret_basic"
	// AuthMethodClientSecretPost is client_id and client_secret in the body.
	AuthMethodClientSecretPost = "client_secret_post"
	// AuthMethodNone is a public client that only identifies itself.
	AuthMethodNone = "none"
)

// Client is a registered OAuth client.
type Client struct {
	// ID is the client identifier.
	ID string
	// SecretHash is the hashed client secret, as made by [HashSecret] or a
	// bcrypt hash. Empty for a public client. Never store the secret itself.
	SecretHash string
	// RedirectURIs are the registered redirection URIs, matched exactly.
	RedirectURIs []string
	// Grants lists the grant types the client may use. A grant not listed
	// is refused with unauthorized_client.
	Grants []string
	// Scopes lists the scopes the client may request. The default
	// ValidateScope grants a request only within them, and grants all of
	// them when the request has no scope.
	Scopes []string
	// AccessTokenLifetime overrides [Options.AccessTokenLifetime] when > 0.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime overrides [Options.RefreshTokenLifetime] when > 0.
	RefreshTokenLifetime time.Duration
	// TokenEndpointAuthMethod pins how a confidential client authenticates:
	// [AuthMethodClientSecretBasic] or [AuthMethodClientSecretPost], or an
	// assertion signed with one of its keys, [AuthMethodPrivateKeyJWT], or
	// MACed with its secret, [AuthMethodClientSecretJWT] (see
	// docs/client-authentication.md). Empty accepts client_secret_basic or
	// client_secret_post; the assertion methods must be registered. Public
	// clients use [AuthMethodNone].
	TokenEndpointAuthMethod string
	// JWKS is the client's public keys for [AuthMethodPrivateKeyJWT], a
	// JSON Web Key Set (RFC 7517 §5) as JSON text (RFC 7591 "jwks").
	// JWKSURI is where the client publishes that set instead, an https URL
	// fetched and cached by the Server (RFC 7591 "jwks_uri"). Set at most
	// one of them.
	JWKS    string
	JWKSURI string
	// TokenEndpointAuthSigningAlg pins the one JWS algorithm of the
	// client's assertions (RFC 7591 "token_endpoint_auth_signing_alg"),
	// e.g. "ES256" or "HS256". Optional. Default: each key's own algorithm
	// for private_key_jwt, HS256, HS384 or HS512 for client_secret_jwt.
	TokenEndpointAuthSigningAlg string
	// Introspect allows the client to call the introspection endpoint
	// (RFC 7662 §2.1): typically a resource server, which must be a
	// confidential client. It then sees every access token, and refresh
	// tokens only when they were issued to itself (RFC 7662 §4).
	Introspect bool
	// PostLogoutRedirectURIs are where the end session endpoint may send
	// the user after logout, matched exactly (RP-Initiated Logout §3).
	PostLogoutRedirectURIs []string
	// SubjectType is the client's subject type for OpenID Connect:
	// "public" (the default, also when empty) or "pairwise" (OIDC Core §8).
	SubjectType string
	// SectorIdentifier is the sector of pairwise subjects, usually a host.
	// Optional: the host of the redirect URIs when they share one.
	SectorIdentifier string
	// IDTokenSignedResponseAlg is the algorithm of the client's ID tokens
	// (RS256, ES256 or EdDSA; OIDC Registration §2). Optional. Default
	// RS256. A key of that algorithm must be among Options.SigningKeys.
	IDTokenSignedResponseAlg string
	// DPoPBoundAccessTokens refuses this client's token requests without
	// a DPoP proof (RFC 9449 §5.2, R-174), as [DPoPOptions.Require] does
	// for all clients. It needs [Options.DPoP].
	DPoPBoundAccessTokens bool
	// RequirePushedAuthorizationRequests refuses this client's
	// authorization requests that do not come through the PAR endpoint
	// (RFC 9126 §6, R-167), as [PAROptions.Require] does for all clients.
	RequirePushedAuthorizationRequests bool
	// Extra holds model-specific data; oauth2server does not read it.
	Extra map[string]any
}

// IsPublic reports whether the client has no credentials (RFC 6749 §2.1):
// a public client is identified, never authenticated. A client registered
// with a secret-based TokenEndpointAuthMethod but without a SecretHash is
// not public: it fails authentication instead of being let in on its
// client_id alone.
func (c *Client) IsPublic() bool {
	switch c.TokenEndpointAuthMethod {
	case AuthMethodNone:
		return true
	case "":
		return c.SecretHash == "" && c.JWKS == "" && c.JWKSURI == ""
	}
	return false
}

// HasGrant reports whether the client may use the grant type.
func (c *Client) HasGrant(grantType string) bool {
	return slices.Contains(c.Grants, grantType)
}

// User is a resource owner.
type User struct {
	// ID is the stable subject identifier.
	ID string
	// Username is the login name, if any.
	Username string
	// Extra holds model-specific data; oauth2server does not read it.
	Extra map[string]any
}

// Token is one issued access token and, optionally, the refresh token
// issued with it. All tokens descending from one authorization share a
// GrantID (their "family"), so that a replayed code or a reused refresh
// token can revoke them all.
type Token struct {
	// ID is the token identifier. For JWT access tokens it is the "jti"
	// claim (RFC 9068 §2.2), which [RevokedJTIModel] deny-lists; empty for
	// opaque tokens.
	ID string
	// AccessToken is the access token string.
	AccessToken string
	// AccessTokenExpiresAt is when the access token expires.
	AccessTokenExpiresAt time.Time
	// RefreshToken is the refresh token string, or empty.
	RefreshToken string
	// RefreshTokenExpiresAt is when the refresh token expires; zero when
	// there is none.
	RefreshTokenExpiresAt time.Time
	// Scope is the scope of the access token.
	Scope []string
	// RefreshTokenScope is the scope of the refresh token when it differs
	// from Scope, which happens when a refresh request narrowed the access
	// token's scope (RFC 6749 §6: the refresh token keeps the original
	// scope). Nil means the same as Scope.
	RefreshTokenScope []string
	// ClientID is the client the token was issued to.
	ClientID string
	// UserID is the resource owner, or empty when none is involved (e.g.
	// client_credentials without GetUserFromClient).
	UserID string
	// GrantID identifies the grant family.
	GrantID string
	// IssuedAt is when the token was issued.
	IssuedAt time.Time
	// Revoked is set by the model once the token was revoked or rotated.
	// Models keep revoked refresh tokens until they expire so that reuse can
	// be detected (RFC 9700 §4.14.2).
	Revoked bool
	// OpenID is the OpenID Connect authentication this belongs to; nil
	// for plain OAuth. Store and return it unchanged.
	OpenID *OpenIDSession
	// Audience is the one resource server the access token is for when it
	// is not [Options.Audience]: the target of a token exchange (RFC 8693
	// §2.1). Empty means Options.Audience.
	Audience string
	// Actor is who acts for the token's user, the "act" claim of a
	// delegation (RFC 8693 §4.1); nil when nobody does. Store and return
	// it unchanged.
	Actor *Actor
	// DPoPJKT is the JWK SHA-256 thumbprint (RFC 7638) of the DPoP key
	// the access token is bound to (RFC 9449 §6); empty for a bearer
	// token. A public client's refresh token is bound to it too.
	DPoPJKT string
	// Resources are the resource indicators (RFC 8707) the access token
	// is for, its audience; nil for a token of the default audience
	// ([Options.Audience]).
	Resources []string
	// RefreshTokenResources are the resources of the refresh token when
	// they differ from Resources, which happens when a request narrowed the
	// access token's audience (R-183: the refresh token keeps the grant).
	// Nil means the same as Resources.
	RefreshTokenResources []string
	// Extra holds extended attributes. They are included in the token
	// response only with [Options.AllowExtendedTokenAttributes].
	Extra map[string]any
}

// AuthorizationCode is an issued authorization code (RFC 6749 §4.1.2).
type AuthorizationCode struct {
	// Code is the code string.
	Code string
	// ExpiresAt is when the code expires.
	ExpiresAt time.Time
	// RedirectURI is the redirect_uri of the authorization request, or
	// empty when the request had none.
	RedirectURI string
	// Scope is the granted scope.
	Scope []string
	// ClientID is the client the code was issued to.
	ClientID string
	// UserID is the resource owner who authorized it.
	UserID string
	// CodeChallenge is the PKCE code_challenge (RFC 7636), or empty.
	CodeChallenge string
	// CodeChallengeMethod is "S256" or "plain"; empty when no challenge.
	CodeChallengeMethod string
	// GrantID identifies the grant family of the tokens the code yields.
	GrantID string
	// IssuedAt is when the code was issued.
	IssuedAt time.Time
	// Revoked is set by the model once the code was redeemed. Models keep
	// redeemed codes until they expire so that a replay can be detected
	// and the tokens it produced revoked (RFC 6749 §4.1.2).
	Revoked bool
	// OpenID is the OpenID Connect authentication this belongs to; nil
	// for plain OAuth. Store and return it unchanged.
	OpenID *OpenIDSession
	// DPoPJKT is the dpop_jkt of the authorization request (RFC 9449
	// §10): the token request must prove this key. Empty when unbound.
	DPoPJKT string
	// Resources are the resource indicators (RFC 8707) of the
	// authorization request, granted with the code.
	Resources []string
	// Extra holds model-specific data; oauth2server does not read it.
	Extra map[string]any
}

// Model is the storage every Server needs.
//
// Every method of every model interface reports "not found" as a nil value
// with a nil error. A non-nil error is a storage fault: the request fails
// with server_error and the error text goes only to logs.
type Model interface {
	// GetClient returns the client with the given id, or nil.
	//
	// Unlike node's getClient it does not receive the secret: the Server
	// verifies secrets itself so that every check is constant-time and an
	// unknown client costs as much as a wrong secret (RFC 6749 §10.10).
	GetClient(ctx context.Context, clientID string) (*Client, error)
	// SaveToken stores an issued token. The token is only handed to the
	// client after SaveToken returned nil. Store digests of the token
	// strings (e.g. [TokenDigest]), not the strings themselves.
	//
	// If the token's GrantID was revoked with [GrantModel.RevokeGrant],
	// the saved token must count as revoked too (a concurrent refresh must
	// not outlive a family revocation).
	SaveToken(ctx context.Context, token *Token, client *Client, user *User) error
}

// AccessTokenModel looks up opaque access tokens. It is needed to
// authenticate requests ([Server.ValidateAccessToken], the middleware package) and to introspect and revoke
// access tokens. Without it only JWT access tokens can be verified.
type AccessTokenModel interface {
	// GetAccessToken returns the token whose AccessToken equals
	// accessToken, or nil. Revoked and expired tokens may be returned; the
	// Server checks Revoked and expiry itself.
	GetAccessToken(ctx context.Context, accessToken string) (*Token, error)
}

// RefreshTokenModel is needed by the refresh_token grant and by revocation.
// Without it no refresh tokens are issued.
type RefreshTokenModel interface {
	// GetRefreshToken returns the token whose RefreshToken equals
	// refreshToken, or nil. It must also return revoked (rotated) tokens,
	// with Revoked set, until they expire: that is how reuse is detected.
	GetRefreshToken(ctx context.Context, refreshToken string) (*Token, error)
	// RevokeToken marks the token (its access and refresh token) revoked.
	// It must be atomic: it reports true only to the one call that changed
	// the token from live to revoked, false if it was already revoked or is
	// unknown.
	RevokeToken(ctx context.Context, token *Token) (bool, error)
}

// GrantModel revokes grant families: every token and code that descends
// from one authorization (their GrantID). The authorization_code grant
// needs it (a replayed code revokes what it produced, RFC 6749 §4.1.2), and
// so do the refresh_token grant (a reused refresh token revokes its family,
// RFC 9700 §4.14.2) and the device grant; revoking a refresh token also
// revokes its family when the model has it (RFC 7009 §2.1).
type GrantModel interface {
	// RevokeGrant revokes every token and code of the grant family,
	// including tokens saved afterwards with the same GrantID.
	RevokeGrant(ctx context.Context, grantID string) error
}

// AuthorizationCodeModel is needed by the authorization_code grant and the
// authorization endpoint, together with [GrantModel], so that a replayed
// code revokes the tokens it produced.
type AuthorizationCodeModel interface {
	// SaveAuthorizationCode stores an issued code.
	SaveAuthorizationCode(ctx context.Context, code *AuthorizationCode, client *Client, user *User) error
	// GetAuthorizationCode returns the code, or nil. Redeemed codes are
	// returned with Revoked set until they expire.
	GetAuthorizationCode(ctx context.Context, code string) (*AuthorizationCode, error)
	// RevokeAuthorizationCode marks the code redeemed. It must be atomic: of
	// any number of concurrent calls for one code exactly one reports true.
	RevokeAuthorizationCode(ctx context.Context, code *AuthorizationCode) (bool, error)
}

// CodeRedemptionModel optionally spends an authorization code and saves
// the token it buys in one step, so that a store which can do both in one
// write saves a round trip per code exchange. When the model has it, the
// authorization_code grant calls it, after every check of the code, in
// place of [AuthorizationCodeModel.RevokeAuthorizationCode] and
// [Model.SaveToken]; without it the grant calls those two.
//
// A model that wraps another and changes what SaveToken or
// RevokeAuthorizationCode do must implement this too, or hide it: the
// Server would otherwise find the wrapped model's and bypass them.
type CodeRedemptionModel interface {
	// RedeemAuthorizationCode spends code and saves token, which the code
	// buys (its GrantID is the code's family), as SaveToken would. code
	// is one GetAuthorizationCode returned and the Server checked: the
	// model need not look it up again. It must be atomic with
	// RevokeAuthorizationCode and itself: of any number of concurrent
	// calls of either for one code, at most one reports true, and only a
	// call that reports true saves its token.
	//
	// It reports false and saves nothing when the code was spent before,
	// by either method, or its family was revoked with
	// [GrantModel.RevokeGrant] before this call; the Server then treats
	// the request as a replay (RFC 6749 §4.1.2). A family revoked while
	// the call runs may leave the token saved revoked instead. An error
	// may leave the code spent without a token, never a token saved
	// without the code spent.
	//
	// GetAuthorizationCode should report a code spent this way as
	// Revoked, as it does after RevokeAuthorizationCode; a store that
	// cannot do so in the same write may leave that to the next
	// redemption, which reports false.
	RedeemAuthorizationCode(ctx context.Context, code *AuthorizationCode, token *Token, client *Client, user *User) (bool, error)
}

// PasswordModel is needed by the password grant, which is off unless listed
// in [Options.Grants] (RFC 9700 §2.4 says it must not be used).
type PasswordModel interface {
	// GetUser returns the user with these credentials, or nil.
	//
	// SECURITY: compare password hashes in constant time (e.g. with
	// [VerifySecret] or bcrypt) and rate-limit calls: the password grant is
	// an online guessing oracle (RFC 6749 §4.3.2).
	GetUser(ctx context.Context, username, password string) (*User, error)
}

// ClientUserModel optionally maps a client to the user on whose behalf it
// acts in the client_credentials grant. Without it such tokens have no user
// and their subject is the client.
type ClientUserModel interface {
	// GetUserFromClient returns the client's user, or nil.
	GetUserFromClient(ctx context.Context, client *Client) (*User, error)
}

// AccessTokenGenerator optionally generates access tokens. Default: 32
// random bytes, base64url (256 bits, RFC 6749 §10.10). Not used for JWT
// access tokens.
type AccessTokenGenerator interface {
	// GenerateAccessToken returns a new, unguessable access token.
	GenerateAccessToken(ctx context.Context, client *Client, user *User, scope []string) (string, error)
}

// RefreshTokenGenerator optionally generates refresh tokens. Default: 32
// random bytes, base64url.
type RefreshTokenGenerator interface {
	// GenerateRefreshToken returns a new, unguessable refresh token.
	GenerateRefreshToken(ctx context.Context, client *Client, user *User, scope []string) (string, error)
}

// AuthorizationCodeGenerator optionally generates authorization codes.
// Default: 32 random bytes, base64url.
type AuthorizationCodeGenerator interface {
	// GenerateAuthorizationCode returns a new, unguessable code.
	GenerateAuthorizationCode(ctx context.Context, client *Client, user *User, scope []string) (string, error)
}

// ScopeValidator optionally decides which scope to grant. Default:
// [DefaultValidateScope].
type ScopeValidator interface {
	// ValidateScope returns the scope to grant for the requested one
	// (which is nil when the request had no scope). Return an error wrapping
	// errors.ErrInvalidScope to refuse.
	//
	// user is nil when no resource owner is involved, and when an
	// authorization request is checked before the user logged in
	// ([Server.ValidateAuthorizeRequest]); [Server.Authorize] calls it again
	// with the user.
	ValidateScope(ctx context.Context, client *Client, user *User, scope []string) ([]string, error)
}

// ScopeVerifier optionally decides whether a token covers a required scope
// at a protected resource. Default: every required scope is in the token's
// scope.
type ScopeVerifier interface {
	// VerifyScope reports whether token may be used for required.
	VerifyScope(ctx context.Context, token *Token, required []string) (bool, error)
}

// RedirectURIValidator optionally validates redirect URIs. Default: exact
// string match against [Client.RedirectURIs] (RFC 9700 §4.1.3), with a
// variable port only for loopback URIs of public clients (RFC 8252 §7.3).
//
// SECURITY: anything looser than exact matching enables open redirectors
// and code theft.
type RedirectURIValidator interface {
	// ValidateRedirectURI reports whether redirectURI is registered for
	// client.
	ValidateRedirectURI(ctx context.Context, redirectURI string, client *Client) (bool, error)
}

// Unwrapper is implemented by Model wrappers (for logging, metrics, ...);
// [New] follows Unwrap to find capabilities of the wrapped Model.
type Unwrapper interface {
	Unwrap() Model
}

// Capability finds the capability T on m or on any Model it wraps
// ([Unwrapper]), as [New] does: Capability[RefreshTokenModel](m) tells
// whether the Server will see refresh token support in m.
func Capability[T any](m Model) (T, bool) {
	for m != nil {
		if t, ok := m.(T); ok {
			return t, true
		}
		u, ok := m.(Unwrapper)
		if !ok {
			break
		}
		m = u.Unwrap()
	}
	var zero T
	return zero, false
}
