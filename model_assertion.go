package oauth2server

import (
	"context"
	"time"
)

// Client authentication by assertion (RFC 7523 §2.2, OIDC Core §9).
const (
	// AuthMethodPrivateKeyJWT is a JWT signed with one of the client's
	// keys ([Client.JWKS] or [Client.JWKSURI]).
	AuthMethodPrivateKeyJWT = "private_key_jwt"
	// AuthMethodClientSecretJWT is a JWT MACed (HS256, HS384, HS512) with
	// the client's secret, which the model must then hold in usable form
	// ([ClientSecretModel]).
	AuthMethodClientSecretJWT = "client_secret_jwt"
	// ClientAssertionTypeJWTBearer is the client_assertion_type of both
	// (RFC 7523 §2.2).
	ClientAssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// GrantJWTBearer is the grant type of the JWT bearer grant (RFC 7523
// §2.1): a JWT of a [TrustedIssuer] exchanged for an access token.
const GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// ClientSecretModel returns client secrets in usable form, which
// client_secret_jwt needs: the Server checks the assertion's MAC with the
// secret itself, where every other method needs only a digest
// ([Client.SecretHash]). Without it, clients registered with
// [AuthMethodClientSecretJWT] cannot authenticate and metadata does not
// list the method.
//
// SECURITY: such secrets cannot be hashed (an exception to ).
// Store them encrypted with a key kept outside the database, decrypt them
// here, give them at least as many bytes as the MAC's hash (32 for HS256,
// 48 for HS384, 64 for HS512; shorter ones are refused), and prefer
// private_key_jwt, whose keys the server never holds.
type ClientSecretModel interface {
	// GetClientSecret returns the secret of client, a client registered
	// with [AuthMethodClientSecretJWT], or nil when it has none.
	GetClientSecret(ctx context.Context, client *Client) ([]byte, error)
}

// TrustedIssuer is an issuer of JWTs that this server accepts as
// authorization grants (the JWT bearer grant, RFC 7523 §2.1) and as
// subject or actor tokens in token exchange (RFC 8693): another
// authorization server, an identity provider, a service with its own keys.
type TrustedIssuer struct {
	// Issuer is the "iss" of its JWTs, compared exactly.
	Issuer string
	// JWKS is its public keys, a JWK Set as JSON text; JWKSURI is where it
	// publishes them instead (fetched like a client's, R-149). Exactly one
	// is set.
	JWKS    string
	JWKSURI string
	// Algorithm pins the one JWS algorithm of its JWTs. Optional. Default:
	// each key's own algorithm.
	Algorithm string
	// Scopes bounds the scope its assertions obtain. Optional. Default
	// nil: whatever ValidateScope grants the client and user.
	Scopes []string
	// ClientIDs are the clients that may present its JWTs. Optional.
	// Default nil: every client allowed the grant.
	ClientIDs []string
	// Audiences are the "aud" values its JWTs may carry to be accepted
	// here. Optional. Default: the issuer identifier and
	// [AssertionOptions.Audiences].
	Audiences []string
	// MaxAssertionLifetime overrides [AssertionOptions.MaxLifetime] for
	// its JWT bearer assertions. Optional.
	MaxAssertionLifetime time.Duration
}

// TrustedIssuerModel finds trusted issuers and the users their JWTs name.
// It is needed by the JWT bearer grant (RFC 7523 §2.1), which is enabled
// by default when the model implements it, and by token exchange to accept
// JWTs and ID tokens of other issuers. Without it those JWTs are refused.
type TrustedIssuerModel interface {
	// GetTrustedIssuer returns the issuer whose identifier is issuer, or
	// nil when it is not trusted.
	GetTrustedIssuer(ctx context.Context, issuer string) (*TrustedIssuer, error)
	// GetSubjectUser returns the local user that subject, the "sub" of a
	// JWT of issuer, stands for, or nil when it names nobody here.
	GetSubjectUser(ctx context.Context, issuer *TrustedIssuer, subject string) (*User, error)
}
