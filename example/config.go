package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/echo-oauth2/oauth2server"
)

// Demo data seeded when no -config file is given. The secrets are public on
// purpose: this is a demo, never a deployment.
const (
	demoPublicClient       = "demo-app"
	demoConfidentialClient = "demo-service"
	demoClientSecret       = "demo-service-secret"
	demoUsername           = "demo"
	demoPassword           = "demo-password"
)

// appConfig is everything newApp needs. main fills it from flags; tests
// fill it directly.
type appConfig struct {
	// Addr is the listen address, e.g. 127.0.0.1:9096.
	Addr string
	// Issuer is the public base URL. Default: http:// + Addr.
	Issuer string
	// Data holds the clients and users to seed. Default: the demo data.
	Data *fileConfig
	// MongoURI selects the MongoDB model instead of the in-memory one.
	MongoURI string
	// JWT issues JWT access tokens signed with the key in SigningKeyFile.
	JWT bool
	// NoOpenID turns OpenID Connect off: plain OAuth 2.0, no ID tokens.
	NoOpenID bool
	// SigningKeyFile is the PEM private key that signs ID tokens (RSA,
	// RS256) and, with JWT, access tokens. Default with OpenID Connect in
	// memory: an RSA key generated for the process, whose ID tokens stop
	// verifying when it exits, like its sessions and codes; required with
	// MongoURI (every instance must sign alike) and with JWT, unless Dev.
	SigningKeyFile string
	// Dev allows generated signing keys.
	Dev bool
	// FAPI turns on the FAPI 2.0 Security Profile
	// (oauth2server.ProfileFAPI2).
	FAPI bool
	// DPoPNonce makes every DPoP proof carry a nonce the server issued
	// (RFC 9449 §8, §9; oauth2server.DPoPOptions.RequireNonce), and turns
	// DPoP on without FAPI too. The nonce key is derived from SessionKey,
	// so that the instances of one deployment accept each other's nonces.
	DPoPNonce bool
	// TrustedProxies are the reverse proxies (IP addresses or CIDR
	// prefixes) whose X-Forwarded-For and X-Forwarded-Proto headers are
	// believed: the login and device page throttles then count the
	// client's address, not the proxy's, and with an https issuer the
	// endpoints and pages accept requests the proxy received over TLS.
	// Default none.
	TrustedProxies []string
	// SessionKey signs the login form's cookie and the CSRF tokens of the
	// session's forms, and keys the consent forms (at least 32 bytes,
	// secret). Required with MongoURI, where every instance must use the
	// same. Default: random per process, which is right for one instance
	// in memory.
	SessionKey []byte
	// MaxSessions caps the sessions held; a login beyond it evicts the
	// least recently used. Default 100 000.
	MaxSessions int
	// Logger receives server faults. Default slog.Default().
	Logger *slog.Logger
	// AuditLog receives the audit events (oauth2server.Event) as JSON
	// lines: tokens issued, refresh reuse, revocations, logins, consent.
	// Default nil: none.
	AuditLog io.Writer

	// hashPassword hashes user passwords. Default
	// oauth2server.HashPassword (bcrypt, default cost); tests use a cheap
	// cost to stay fast under the race detector.
	hashPassword func(string) (string, error)
	// deviceInterval is the device flow's polling interval. Default 5 s;
	// tests poll faster.
	deviceInterval time.Duration
	// dpopNonceLifetime is how often the DPoP nonce changes, with
	// DPoPNonce. Default 5 minutes; tests make nonces go stale within the
	// lifetime of a code.
	dpopNonceLifetime time.Duration
	// now is the clock of the Server (oauth2server.Options.Now: token
	// lifetimes, the login throttle's delays), of sessions and of form
	// tokens. Default time.Now; tests move it instead of sleeping.
	now func() time.Time
}

// fileConfig is the JSON of the -config file.
type fileConfig struct {
	Issuer string `json:"issuer"`
	// SessionKey is appConfig.SessionKey, base64. Optional: -session-key
	// takes precedence.
	SessionKey string       `json:"session_key,omitempty"`
	Clients    []fileClient `json:"clients"`
	Users      []fileUser   `json:"users"`
	// TrustedIssuers are the issuers of JWT bearer assertions
	// (assertions.go).
	TrustedIssuers []fileIssuer `json:"trusted_issuers,omitempty"`

	sessionKey []byte // SessionKey decoded by check
}

// fileClient is a client in the -config file. Secret is in clear text in the
// file and hashed when loaded; leave it empty (or set public) for a public
// client.
type fileClient struct {
	ID           string   `json:"id"`
	Secret       string   `json:"secret"`
	Public       bool     `json:"public"`
	RedirectURIs []string `json:"redirect_uris"`
	Grants       []string `json:"grants"`
	Scopes       []string `json:"scopes"`
	// Introspect lets a confidential client call the introspection
	// endpoint (a resource server).
	Introspect bool `json:"introspect,omitempty"`
	// PostLogoutRedirectURIs are where the client may send the user after
	// an RP-initiated logout (OpenID Connect RP-Initiated Logout §3).
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	// TokenEndpointAuthMethod, JWKS and JWKSURI register a client that
	// authenticates with private_key_jwt instead of a secret
	// (assertions.go).
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method,omitempty"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	// DPoPBoundAccessTokens refuses the client's token requests without a
	// DPoP proof (RFC 9449 §5.2): its access tokens are always bound to
	// its key.
	DPoPBoundAccessTokens bool `json:"dpop_bound_access_tokens,omitempty"`
}

// fileUser is a user in the -config file. The password is hashed with
// bcrypt when loaded. ID defaults to the username.
type fileUser struct {
	ID       string `json:"id,omitempty"`
	Username string `json:"username"`
	Password string `json:"password"`
	// Claims are the user's OpenID Connect claims (OIDC Core §5.1):
	// "name", "email", "email_verified", ... The server releases those
	// of the scopes the user approved; "sub" is the user's ID.
	Claims map[string]any `json:"claims,omitempty"`
}

// loadConfigFile reads and checks a -config file. Unknown fields are errors
// so that a typo does not silently drop a setting.
func loadConfigFile(path string) (*fileConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	var fc fileConfig
	if err := dec.Decode(&fc); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if err := fc.check(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return &fc, nil
}

// servedGrants are the grants the example's Server enables (the library's
// defaults): a client listing anything else could never use it.
var servedGrants = []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantRefreshToken,
	oauth2server.GrantClientCredentials, oauth2server.GrantDeviceCode, oauth2server.GrantJWTBearer}

// check refuses a file that would seed something other than what it says:
// everything is checked before anything is stored, so that a bad entry
// never leaves the first clients in MongoDB and a duplicate is never
// mistaken for data kept from an earlier run.
func (fc *fileConfig) check() error {
	if fc.SessionKey != "" {
		k, err := parseSessionKey(fc.SessionKey)
		if err != nil {
			return fmt.Errorf("session_key: %w", err)
		}
		fc.sessionKey = k
	}
	clientIDs := make(map[string]bool, len(fc.Clients))
	for i, c := range fc.Clients {
		if err := c.check(); err != nil {
			if c.ID == "" {
				return fmt.Errorf("clients[%d]: %w", i, err)
			}
			return fmt.Errorf("client %q: %w", c.ID, err)
		}
		if clientIDs[c.ID] {
			return fmt.Errorf("client %q: duplicate id", c.ID)
		}
		clientIDs[c.ID] = true
	}
	usernames := make(map[string]bool, len(fc.Users))
	userIDs := make(map[string]bool, len(fc.Users))
	for i, u := range fc.Users {
		switch {
		case u.Username == "" || u.Password == "":
			return fmt.Errorf("users[%d]: username and password are required", i)
		case len(u.Password) > 72:
			// bcrypt's limit; HashPassword would fail only when seeding.
			return fmt.Errorf("users[%d]: password longer than 72 bytes", i)
		case usernames[u.Username]:
			return fmt.Errorf("user %q: duplicate username", u.Username)
		}
		usernames[u.Username] = true
		id := u.ID
		if id == "" {
			id = u.Username
		}
		if userIDs[id] {
			return fmt.Errorf("user %q: duplicate id %q", u.Username, id)
		}
		userIDs[id] = true
		if _, ok := u.Claims["sub"]; ok {
			return fmt.Errorf("user %q: claims must not set \"sub\": it is the user's id", u.Username)
		}
		// R-98, RFC 9068 §5: "sub" names the client for
		// client_credentials and the user otherwise, so a resource server
		// could not tell a client from a user of the same name.
		switch {
		case clientIDs[u.Username]:
			return fmt.Errorf("client %q and user %q: the client id equals the user's username; \"sub\" could not tell them apart (RFC 9068 §5)", u.Username, u.Username)
		case clientIDs[id]:
			return fmt.Errorf("client %q and user %q: the client id equals the user's id; \"sub\" could not tell them apart (RFC 9068 §5)", id, u.Username)
		}
	}
	return checkIssuers(fc.TrustedIssuers, usernames)
}

func (c *fileClient) check() error {
	if err := c.checkAuthMethod(); err != nil {
		return err
	}
	switch {
	case c.ID == "":
		return errors.New("id is required")
	case c.Public && c.Secret != "":
		return errors.New("a public client has no secret")
	case !c.Public && c.Secret == "" && c.TokenEndpointAuthMethod != oauth2server.AuthMethodPrivateKeyJWT:
		return errors.New("a confidential client needs a secret (or set \"public\": true)")
	case c.Public && c.Introspect:
		return errors.New("only a confidential client may introspect")
	case len(c.Grants) == 0:
		return errors.New("grants is empty")
	}
	for _, g := range c.Grants {
		if !slices.Contains(servedGrants, g) {
			return fmt.Errorf("grant %q is not served (use %s)", g, strings.Join(servedGrants, ", "))
		}
	}
	if slices.Contains(c.Grants, oauth2server.GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return errors.New("authorization_code needs redirect_uris")
	}
	for _, r := range c.RedirectURIs {
		// The authorization endpoint checks the rest (https, or http on
		// loopback) on every request; this catches what is never valid.
		if !absoluteURI(r) {
			return fmt.Errorf("redirect URI %q must be absolute, without fragment", r)
		}
	}
	for _, r := range c.PostLogoutRedirectURIs {
		if !absoluteURI(r) {
			return fmt.Errorf("post-logout redirect URI %q must be absolute, without fragment", r)
		}
	}
	return nil
}

// absoluteURI reports whether r is an absolute URI without fragment, what
// a redirect URI must be (RFC 6749 §3.1.2).
func absoluteURI(r string) bool {
	u, err := url.Parse(r)
	return err == nil && u.IsAbs() && !strings.Contains(r, "#")
}

// demoConfig is the data seeded when no -config file is given: a public
// client for the browser flow, a confidential client for service-to-service
// calls, and one user. With OpenID Connect, both clients may ask for the
// openid, profile and email scopes, and the user has a name and an email.
func demoConfig(issuer string, openID bool) *fileConfig {
	scopes := []string{"read", "write"}
	if openID {
		scopes = slices.Concat(demoOpenIDScopes, scopes)
	}
	return &fileConfig{
		Clients: []fileClient{
			{
				ID:           demoPublicClient,
				Public:       true,
				RedirectURIs: []string{issuer + callbackPath},
				Grants: []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantRefreshToken,
					oauth2server.GrantDeviceCode},
				Scopes:                 scopes,
				PostLogoutRedirectURIs: []string{issuer + "/"},
			},
			{
				ID:           demoConfidentialClient,
				Secret:       demoClientSecret,
				RedirectURIs: []string{issuer + callbackPath},
				Grants: []string{oauth2server.GrantClientCredentials, oauth2server.GrantAuthorizationCode,
					oauth2server.GrantRefreshToken},
				Scopes:                 scopes,
				Introspect:             true,
				PostLogoutRedirectURIs: []string{issuer + "/"},
			},
		},
		Users: []fileUser{{Username: demoUsername, Password: demoPassword, Claims: map[string]any{
			"name":               "Demo User",
			"preferred_username": demoUsername,
			"email":              "demo@example.com",
			"email_verified":     true,
		}}},
	}
}

// demoOpenIDScopes are the OpenID Connect scopes of the demo clients: an
// ID token (openid), the user's name (profile) and email address (email).
var demoOpenIDScopes = []string{oauth2server.ScopeOpenID, "profile", "email"}

// clients converts the file's clients, hashing their secrets: the model
// never sees a secret in clear text.
func (fc *fileConfig) clients() []*oauth2server.Client {
	out := make([]*oauth2server.Client, 0, len(fc.Clients))
	for _, c := range fc.Clients {
		cl := &oauth2server.Client{
			ID:                     c.ID,
			RedirectURIs:           c.RedirectURIs,
			Grants:                 c.Grants,
			Scopes:                 c.Scopes,
			Introspect:             c.Introspect,
			PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
			// Empty unless the client authenticates with private_key_jwt.
			TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
			JWKS:                    string(c.JWKS),
			JWKSURI:                 c.JWKSURI,
			DPoPBoundAccessTokens:   c.DPoPBoundAccessTokens,
		}
		switch {
		case c.TokenEndpointAuthMethod == oauth2server.AuthMethodPrivateKeyJWT:
		case c.Public:
			cl.TokenEndpointAuthMethod = oauth2server.AuthMethodNone
		default:
			cl.SecretHash = oauth2server.HashSecret(c.Secret)
		}
		out = append(out, cl)
	}
	return out
}

// defaultIssuer derives the issuer from the listen address: http on the
// loopback interface, the only place plain http is acceptable.
func defaultIssuer(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		return "", fmt.Errorf("listening on all interfaces (%q) needs -issuer with the public https URL", addr)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return "http://" + host + ":" + port, nil
}
