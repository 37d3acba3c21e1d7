package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/echo-oauth2/oauth2server"
)

// The demo (no -config): GET /demo starts an authorization request of the
// public demo client for whoever opens it, with a fresh state, PKCE
// verifier and, with OpenID Connect, nonce. They live in a short-lived
// HttpOnly cookie of that visitor's browser, sent only to the callback: the
// server keeps nothing for anonymous visitors. The callback plays
// the client application for the browser that started the request alone:
// it redeems the code, verifies the ID token and shows its claims and the
// access token.
const (
	demoPath      = "/demo"
	demoCookie    = "oauth2server_demo"
	demoCookieAge = 10 * time.Minute
)

// demoRequest describes the demo client: where a demo starts and what
// the callback needs to redeem the code.
type demoRequest struct {
	// URL starts a demo flow (demoPath on the issuer).
	URL      string
	ClientID string
	Redirect string
	// OpenID is set when the demo asks for an ID token.
	OpenID bool
}

func newDemoRequest(issuer string, openID bool) *demoRequest {
	return &demoRequest{URL: issuer + demoPath, ClientID: demoPublicClient, Redirect: issuer + callbackPath, OpenID: openID}
}

// scope is the scope the demo asks for.
func (d *demoRequest) scope() []string {
	if d.OpenID {
		return append(append([]string(nil), demoOpenIDScopes...), "read", "write")
	}
	return []string{"read", "write"}
}

// demoStart creates a state, a PKCE verifier and a nonce for this visitor,
// keeps them in the demo cookie and redirects to the authorization
// request.
func (a *app) demoStart(c echo.Context) error {
	state, verifier := demoRandom(), demoRandom()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {a.demo.ClientID},
		"redirect_uri":          {a.demo.Redirect},
		"scope":                 {oauth2server.FormatScope(a.demo.scope())},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	// All are base64url, which has no ".".
	value := state + "." + verifier
	if a.demo.OpenID {
		// The ID token must carry it back (OIDC Core §3.1.2.1): a token
		// injected from another request would not.
		nonce := demoRandom()
		q.Set("nonce", nonce)
		value += "." + nonce
		// The profile and email claims go to UserInfo; a claims request
		// puts them in the ID token too (OIDC Core §5.5), where the
		// callback shows them.
		q.Set("claims", demoClaimsRequest)
	}
	a.setDemoCookie(c, value, int(demoCookieAge/time.Second))
	return c.Redirect(http.StatusFound, a.issuer+authorizePath+"?"+q.Encode())
}

// demoClaimsRequest asks for the user's name and email address in the ID
// token; the server releases them when the user approved the profile and
// email scopes.
const demoClaimsRequest = `{"id_token":{"name":null,"preferred_username":null,"email":null,"email_verified":null}}`

func (a *app) setDemoCookie(c echo.Context, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name:     demoCookie,
		Value:    value,
		Path:     callbackPath,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   strings.HasPrefix(a.issuer, "https://"),
		// Lax: sent along with the redirect to the callback, a top-level
		// GET.
		SameSite: http.SameSiteLaxMode,
	})
}

// demoSecrets are what the browser that started a demo keeps for the
// callback.
type demoSecrets struct {
	verifier string
	nonce    string // "" without OpenID Connect
}

// demoStarted returns the secrets of the demo this browser started with
// the given state, if any.
func (a *app) demoStarted(c echo.Context, state string) (demoSecrets, bool) {
	if a.demo == nil || state == "" {
		return demoSecrets{}, false
	}
	ck, err := c.Cookie(demoCookie)
	if err != nil {
		return demoSecrets{}, false
	}
	parts := strings.Split(ck.Value, ".")
	if len(parts) < 2 || len(parts) > 3 || parts[1] == "" ||
		subtle.ConstantTimeCompare([]byte(parts[0]), []byte(state)) != 1 {
		return demoSecrets{}, false
	}
	d := demoSecrets{verifier: parts[1]}
	if len(parts) == 3 {
		d.nonce = parts[2]
	}
	if a.demo.OpenID && d.nonce == "" {
		return demoSecrets{}, false
	}
	return d, true
}

// demoResult is what the callback got by redeeming a demo's code.
type demoResult struct {
	// Error says why the token request or the ID token's verification
	// failed.
	Error       string
	AccessToken string
	Scope       string
	// Curl calls the API with the access token.
	Curl string
	// IDToken is the verified ID token, nil without OpenID Connect.
	IDToken *idTokenView
	// UserInfo are the claims of the UserInfo endpoint for the access
	// token.
	UserInfo []claimRow
	// Logout is the client's RP-initiated logout form.
	Logout *demoLogout
}

// demoLogout is the form that asks the end session endpoint to sign the
// user out and come back to the home page (OpenID Connect RP-Initiated
// Logout §2): the ID token as id_token_hint proves the client's request,
// so the user is not asked to confirm.
type demoLogout struct {
	Action                string
	IDTokenHint           string
	ClientID              string
	PostLogoutRedirectURI string
}

// idTokenView is a verified ID token as the callback shows it.
type idTokenView struct {
	// Checks are what was verified, in words.
	Checks []string
	Claims []claimRow
}

// redeemDemo redeems code as the demo client does: a token request with
// the PKCE verifier (golang.org/x/oauth2, as in any Go client), then the
// ID token's verification with the nonce of the request.
func (a *app) redeemDemo(ctx context.Context, code string, s demoSecrets) *demoResult {
	conf := &oauth2.Config{
		ClientID: a.demo.ClientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:   a.issuer + authorizePath,
			TokenURL:  a.issuer + tokenPath,
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: a.demo.Redirect,
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.demoClient)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(s.verifier))
	if err != nil {
		return &demoResult{Error: "The token request failed: " + err.Error()}
	}
	r := &demoResult{
		AccessToken: tok.AccessToken,
		Curl:        "curl -s -H " + shellQuote("Authorization: Bearer "+tok.AccessToken) + " " + shellQuote(a.issuer+mePath),
	}
	r.Scope, _ = tok.Extra("scope").(string)
	if !a.demo.OpenID {
		return r
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		r.Error = "The token response has no ID token."
		return r
	}
	v, err := a.idTokens.verify(raw, s.nonce, tok.AccessToken)
	if err != nil {
		r.Error = "The ID token failed verification: " + err.Error()
		return r
	}
	view := &idTokenView{Checks: []string{
		"signature: " + idTokenAlg + " with key " + v.kid + " of the server's JWK Set",
		"iss is the issuer " + a.issuer,
		"aud is the client " + a.demo.ClientID,
		"exp has not passed, iat is not in the future",
		"nonce is the one this browser sent",
	}}
	if v.atHash {
		view.Checks = append(view.Checks, "at_hash matches the access token")
	}
	view.Claims = claimRows(v.claims)
	r.IDToken = view
	r.Logout = &demoLogout{Action: endSessionPath, IDTokenHint: raw, ClientID: a.demo.ClientID,
		PostLogoutRedirectURI: a.issuer + "/"}

	info, err := a.demoUserInfo(ctx, tok.AccessToken)
	switch {
	case err != nil:
		r.Error = "The UserInfo request failed: " + err.Error()
	case info["sub"] != v.claims["sub"]:
		// OIDC Core §5.3.2: a sub other than the ID token's means the
		// answer is about someone else, and must not be used.
		r.Error = "UserInfo answered for another sub than the ID token's."
	default:
		r.UserInfo = claimRows(info)
		view.Checks = append(view.Checks, "UserInfo's sub is the ID token's")
	}
	return r
}

// demoUserInfo asks the UserInfo endpoint for the claims of accessToken
// (OIDC Core §5.3.1).
func (a *app) demoUserInfo(ctx context.Context, accessToken string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.issuer+userInfoPath, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := a.demoClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d, %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	var claims map[string]any
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// demoRandom returns 32 random bytes, base64url: 43 characters, a valid
// PKCE verifier (RFC 7636 §4.1) and an unguessable state and nonce.
func demoRandom() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// inProcessTransport carries the demo client's requests to the example's
// own handler, without a network: the callback stands in for a client
// application, which would POST to the token endpoint over the network.
// Calling its own public URL would not work behind a TLS-terminating
// proxy, and the request never leaves the process, so it counts as TLS
// (Options.RequireTLS).
type inProcessTransport struct {
	h http.Handler
}

func (t inProcessTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.RequestURI = r.URL.RequestURI()
	r.RemoteAddr = "127.0.0.1:0"
	if r.URL.Scheme == "https" {
		r.TLS = &tls.ConnectionState{HandshakeComplete: true}
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
