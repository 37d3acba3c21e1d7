package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
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
	// SigningKeyFile is a PEM private key for JWT access tokens.
	SigningKeyFile string
	// Dev allows generated signing keys.
	Dev bool
	// TrustedProxies are the reverse proxies (IP addresses or CIDR
	// prefixes) whose X-Forwarded-For and X-Forwarded-Proto headers are
	// believed: the login rate limit then counts the client's address, not
	// the proxy's, and with an https issuer the OAuth endpoints accept
	// requests the proxy received over TLS. Default none.
	TrustedProxies []string
	// LoginBurst is how many login attempts one IP address may make at once
	// before it is slowed to one attempt every few seconds. Default 10.
	LoginBurst int
	// Logger receives server faults. Default slog.Default().
	Logger *slog.Logger

	// hashPassword hashes user passwords. Default
	// oauth2server.HashPassword (bcrypt, default cost); tests use a cheap
	// cost to stay fast under the race detector.
	hashPassword func(string) (string, error)
	// deviceInterval is the device flow's polling interval. Default 5 s;
	// tests poll faster.
	deviceInterval time.Duration
}

// fileConfig is the JSON of the -config file.
type fileConfig struct {
	Issuer  string       `json:"issuer"`
	Clients []fileClient `json:"clients"`
	Users   []fileUser   `json:"users"`
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
}

// fileUser is a user in the -config file. The password is hashed with
// bcrypt when loaded. ID defaults to the username.
type fileUser struct {
	ID       string `json:"id,omitempty"`
	Username string `json:"username"`
	Password string `json:"password"`
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

func (fc *fileConfig) check() error {
	for i, c := range fc.Clients {
		switch {
		case c.ID == "":
			return fmt.Errorf("clients[%d]: id is required", i)
		case c.Public && c.Secret != "":
			return fmt.Errorf("client %q: a public client has no secret", c.ID)
		case !c.Public && c.Secret == "":
			return fmt.Errorf("client %q: a confidential client needs a secret (or set \"public\": true)", c.ID)
		case c.Public && c.Introspect:
			return fmt.Errorf("client %q: only a confidential client may introspect", c.ID)
		case len(c.Grants) == 0:
			return fmt.Errorf("client %q: grants is empty", c.ID)
		}
	}
	for i, u := range fc.Users {
		if u.Username == "" || u.Password == "" {
			return fmt.Errorf("users[%d]: username and password are required", i)
		}
	}
	return nil
}

// demoConfig is the data seeded when no -config file is given: a public
// client for the browser flow, a confidential client for service-to-service
// calls, and one user.
func demoConfig(issuer string) *fileConfig {
	return &fileConfig{
		Clients: []fileClient{
			{
				ID:           demoPublicClient,
				Public:       true,
				RedirectURIs: []string{issuer + callbackPath},
				Grants: []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantRefreshToken,
					oauth2server.GrantDeviceCode},
				Scopes: []string{"read", "write"},
			},
			{
				ID:           demoConfidentialClient,
				Secret:       demoClientSecret,
				RedirectURIs: []string{issuer + callbackPath},
				Grants: []string{oauth2server.GrantClientCredentials, oauth2server.GrantAuthorizationCode,
					oauth2server.GrantRefreshToken},
				Scopes:     []string{"read", "write"},
				Introspect: true,
			},
		},
		Users: []fileUser{{Username: demoUsername, Password: demoPassword}},
	}
}

// clients converts the file's clients, hashing their secrets: the model
// never sees a secret in clear text.
func (fc *fileConfig) clients() []*oauth2server.Client {
	out := make([]*oauth2server.Client, 0, len(fc.Clients))
	for _, c := range fc.Clients {
		cl := &oauth2server.Client{
			ID:           c.ID,
			RedirectURIs: c.RedirectURIs,
			Grants:       c.Grants,
			Scopes:       c.Scopes,
			Introspect:   c.Introspect,
		}
		if c.Public {
			cl.TokenEndpointAuthMethod = oauth2server.AuthMethodNone
		} else {
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
