// Package fapiclient is a FAPI 2.0 client of the example server, for the
// demo program example/fapiclient and its test: it authenticates with
// private_key_jwt, pushes its authorization requests (PAR, RFC 9126),
// uses PKCE with S256 and DPoP-bound access tokens (RFC 9449).
package fapiclient

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The demo FAPI client the example's configuration registers (Config).
const (
	DemoClientID = "demo-fapi"
	// DemoRedirectURI is https, as the FAPI 2.0 profile requires of every
	// redirect URI (no http loopback exception): nothing needs to answer
	// there, the user copies the address the browser was sent to.
	DemoRedirectURI = "https://client.example.com/callback"
	// DemoScope is what the demo client asks for.
	DemoScope = "read"
)

// LoadKey reads the client's P-256 private key, a PKCS #8 PEM file as
// "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256" writes.
func LoadKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok || key.Curve.Params().Name != "P-256" {
		return nil, fmt.Errorf("%s is not a P-256 EC key", path)
	}
	return key, nil
}

// publicJWK is the public half of key as a JWK (RFC 7517), without kid or
// alg: the members the JWK thumbprint covers (RFC 7638).
func publicJWK(key *ecdsa.PrivateKey) (map[string]string, error) {
	raw, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]string{"kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}, nil
}

// JWKS is the JWK Set to register for the client: its public key.
func JWKS(key *ecdsa.PrivateKey) (json.RawMessage, error) {
	jwk, err := publicJWK(key)
	if err != nil {
		return nil, err
	}
	jwk["alg"] = "ES256"
	jwk["use"] = "sig"
	return json.Marshal(map[string]any{"keys": []map[string]string{jwk}})
}

// Config is a configuration file for the example server (its -config
// flag) with the demo FAPI client, registered with key's public key, and
// the demo user.
func Config(issuer string, key *ecdsa.PrivateKey) ([]byte, error) {
	jwks, err := JWKS(key)
	if err != nil {
		return nil, err
	}
	cfg := map[string]any{
		"issuer": issuer,
		"clients": []map[string]any{{
			"id":                         DemoClientID,
			"token_endpoint_auth_method": "private_key_jwt",
			"jwks":                       jwks,
			"dpop_bound_access_tokens":   true,
			"redirect_uris":              []string{DemoRedirectURI},
			"grants":                     []string{"authorization_code", "refresh_token"},
			"scopes":                     []string{"read", "write"},
		}},
		"users": []map[string]any{{
			"username": "demo",
			"password": "demo-password",
			"claims":   map[string]any{"name": "Demo User", "preferred_username": "demo"},
		}},
	}
	return json.MarshalIndent(cfg, "", "  ")
}

// Client is a FAPI 2.0 client of one authorization server.
type Client struct {
	// Issuer is the server's issuer identifier: the metadata is read
	// from it, and client assertions name it as their audience.
	Issuer      string
	ClientID    string
	RedirectURI string
	Scope       string
	// Key signs the client assertions and the DPoP proofs. (A client may
	// use two keys; the demo uses one.)
	Key *ecdsa.PrivateKey
	// HTTP sends the requests. Default http.DefaultClient.
	HTTP *http.Client
	// Now is the clock of the assertions' and the proofs' iat. Default
	// time.Now.
	Now func() time.Time

	meta  metadata
	jwk   map[string]string
	nonce map[string]string // the last DPoP-Nonce of each server (origin)
}

type metadata struct {
	Issuer                             string `json:"issuer"`
	AuthorizationEndpoint              string `json:"authorization_endpoint"`
	TokenEndpoint                      string `json:"token_endpoint"`
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint"`
}

// Discover reads the server's metadata (RFC 8414).
func (c *Client) Discover(ctx context.Context) error {
	jwk, err := publicJWK(c.Key)
	if err != nil {
		return err
	}
	c.jwk = jwk
	c.nonce = map[string]string{}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.Issuer, "/")+"/.well-known/oauth-authorization-server", nil)
	if err != nil {
		return err
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("metadata: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&c.meta); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	switch {
	case c.meta.Issuer != c.Issuer:
		return fmt.Errorf("metadata: issuer %q, want %q", c.meta.Issuer, c.Issuer)
	case c.meta.PushedAuthorizationRequestEndpoint == "":
		return errors.New("metadata: the server has no PAR endpoint")
	}
	return nil
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Pending is an authorization request pushed to the server, waiting for
// the user.
type Pending struct {
	// AuthURL is where the user goes: the authorization endpoint with
	// client_id and request_uri only.
	AuthURL string
	// Status is the PAR endpoint's answer, 201 Created.
	Status   int
	state    string
	verifier string
}

// Push pushes the authorization request to the PAR endpoint (RFC 9126),
// authenticated with a client assertion, with a PKCE challenge and a DPoP
// proof that binds the code to the client's key (RFC 9449 §10).
func (c *Client) Push(ctx context.Context) (*Pending, error) {
	p := &Pending{state: random(), verifier: random()}
	sum := sha256.Sum256([]byte(p.verifier))
	params := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ClientID},
		"redirect_uri":          {c.RedirectURI},
		"scope":                 {c.Scope},
		"state":                 {p.state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	resp, body, err := c.post(ctx, c.meta.PushedAuthorizationRequestEndpoint, params)
	if err != nil {
		return nil, err
	}
	p.Status = resp.StatusCode
	if resp.StatusCode != http.StatusCreated {
		return p, fmt.Errorf("PAR: %s: %s", resp.Status, body)
	}
	var out struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.RequestURI == "" {
		return p, fmt.Errorf("PAR: no request_uri in %s", body)
	}
	p.AuthURL = c.meta.AuthorizationEndpoint + "?" + url.Values{
		"client_id": {c.ClientID}, "request_uri": {out.RequestURI},
	}.Encode()
	return p, nil
}

// Code returns the code of the redirect the user was sent to: the whole
// URL (or its query), checked for the request's state and the server's
// iss (RFC 9207), or the bare code.
func (p *Pending) Code(c *Client, redirected string) (string, error) {
	redirected = strings.TrimSpace(redirected)
	if redirected == "" {
		return "", errors.New("no redirect address or code given")
	}
	if !strings.Contains(redirected, "=") {
		return redirected, nil // the bare code
	}
	if u, err := url.Parse(redirected); err == nil && u.RawQuery != "" {
		redirected = u.RawQuery
	}
	q, err := url.ParseQuery(strings.TrimPrefix(redirected, "?"))
	if err != nil {
		return "", err
	}
	switch {
	case q.Get("error") != "":
		return "", fmt.Errorf("authorization refused: %s: %s", q.Get("error"), q.Get("error_description"))
	case q.Get("state") != p.state:
		return "", errors.New("the redirect's state is not this request's")
	case q.Get("iss") != c.Issuer:
		return "", fmt.Errorf("the redirect's iss is %q, want %q (RFC 9207)", q.Get("iss"), c.Issuer)
	case q.Get("code") == "":
		return "", errors.New("the redirect has no code")
	}
	return q.Get("code"), nil
}

// Token is the token endpoint's answer.
type Token struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token"`
}

// Exchange redeems the code with the PKCE verifier, a client assertion and
// a DPoP proof: the access token is bound to the client's key.
func (c *Client) Exchange(ctx context.Context, p *Pending, code string) (*Token, error) {
	resp, body, err := c.post(ctx, c.meta.TokenEndpoint, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {c.RedirectURI},
		"code_verifier": {p.verifier},
	})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("token: %s: %s", resp.Status, body)
	}
	var tok Token
	if err := json.Unmarshal(body, &tok); err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if !strings.EqualFold(tok.TokenType, "DPoP") {
		return nil, fmt.Errorf("token: token_type %q, want DPoP", tok.TokenType)
	}
	return &tok, nil
}

// Get calls a resource server with "Authorization: DPoP <token>" and a
// proof whose ath is the token's hash, and returns the answer.
func (c *Client) Get(ctx context.Context, u string, tok *Token) (*http.Response, []byte, error) {
	sum := sha256.Sum256([]byte(tok.AccessToken))
	ath := base64.RawURLEncoding.EncodeToString(sum[:])
	return c.do(ctx, u, func(nonce string) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		proof, err := c.proof(http.MethodGet, u, nonce, ath)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "DPoP "+tok.AccessToken)
		req.Header.Set("DPoP", proof)
		return req, nil
	})
}

// post posts params to an endpoint of the authorization server with a
// fresh client assertion and DPoP proof.
func (c *Client) post(ctx context.Context, endpoint string, params url.Values) (*http.Response, []byte, error) {
	return c.do(ctx, endpoint, func(nonce string) (*http.Request, error) {
		assertion, err := c.assertion()
		if err != nil {
			return nil, err
		}
		form := url.Values{}
		for k, v := range params {
			form[k] = v
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		proof, err := c.proof(http.MethodPost, endpoint, nonce, "")
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("DPoP", proof)
		return req, nil
	})
}

// do sends the request build makes, and once more with the server's
// DPoP-Nonce when it answers use_dpop_nonce (RFC 9449 §8, §9): 400 from
// the authorization server, 401 from a resource server.
func (c *Client) do(ctx context.Context, u string, build func(nonce string) (*http.Request, error)) (*http.Response, []byte, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return nil, nil, err
	}
	origin := parsed.Scheme + "://" + parsed.Host
	for attempt := 0; ; attempt++ {
		req, err := build(c.nonce[origin])
		if err != nil {
			return nil, nil, err
		}
		resp, err := c.client().Do(req)
		if err != nil {
			return nil, nil, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, nil, err
		}
		nonce := resp.Header.Get("DPoP-Nonce")
		if nonce != "" {
			c.nonce[origin] = nonce
		}
		if attempt == 0 && nonce != "" && useDPoPNonce(resp, body) {
			continue
		}
		return resp, body, nil
	}
}

// useDPoPNonce reports whether resp asks for a proof with the server's
// nonce: a 400 whose JSON error is use_dpop_nonce (an authorization
// server, RFC 9449 §8) or a 401 whose challenge says so (a resource
// server, §9).
func useDPoPNonce(resp *http.Response, body []byte) bool {
	switch resp.StatusCode {
	case http.StatusBadRequest:
		var e struct {
			Error string `json:"error"`
		}
		return json.Unmarshal(body, &e) == nil && e.Error == "use_dpop_nonce"
	case http.StatusUnauthorized:
		return strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`)
	}
	return false
}

// assertion is a private_key_jwt client assertion (RFC 7523 §3) for this
// server: aud its issuer identifier alone, as FAPI 2.0 requires, a
// single-use jti, one minute of life.
func (c *Client) assertion() (string, error) {
	now := c.now()
	// MapClaims: aud as a string, not the one-element array
	// RegisteredClaims writes, which StrictAudience refuses.
	return jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": c.ClientID,
		"sub": c.ClientID,
		"aud": c.Issuer,
		"iat": now.Unix(),
		"exp": now.Add(time.Minute).Unix(),
		"jti": random(),
	}).SignedString(c.Key)
}

// proofClaims are the claims of a DPoP proof (RFC 9449 §4.2).
type proofClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	Nonce string `json:"nonce,omitempty"`
	ATH   string `json:"ath,omitempty"`
}

func (proofClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (proofClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (proofClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (proofClaims) GetIssuer() (string, error)                   { return "", nil }
func (proofClaims) GetSubject() (string, error)                  { return "", nil }
func (proofClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// proof is a DPoP proof for a request: typ dpop+jwt, the public key in the
// jwk header, the method and the URL without query and fragment, and for a
// resource server the access token's hash.
func (c *Client) proof(method, u, nonce, ath string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	parsed.RawQuery, parsed.Fragment = "", ""
	t := jwt.NewWithClaims(jwt.SigningMethodES256, proofClaims{
		JTI: random(), HTM: method, HTU: parsed.String(), IAT: c.now().Unix(), Nonce: nonce, ATH: ath,
	})
	t.Header["typ"] = "dpop+jwt"
	t.Header["jwk"] = c.jwk
	return t.SignedString(c.Key)
}

// random is 32 random bytes, base64url: a state, a PKCE verifier, a jti.
func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
