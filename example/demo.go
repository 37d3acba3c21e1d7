package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// The demo (no -config): GET /demo starts an authorization request of the
// public demo client for whoever opens it, with a fresh state and PKCE
// verifier. Both live in a short-lived HttpOnly cookie of that visitor's
// browser, sent only to the callback: the server keeps nothing for
// anonymous visitors, and the callback shows the
// verifier, and the curl command that redeems the code, only to the
// browser that started the request.
const (
	demoPath      = "/demo"
	demoCookie    = "oauth2server_demo"
	demoCookieAge = 10 * time.Minute
)

// demoRequest describes the demo client: where a demo starts and what
// the callback needs to print the token request.
type demoRequest struct {
	// URL starts a demo flow (demoPath on the issuer).
	URL      string
	ClientID string
	Redirect string
}

func newDemoRequest(issuer string) *demoRequest {
	return &demoRequest{URL: issuer + demoPath, ClientID: demoPublicClient, Redirect: issuer + callbackPath}
}

// demoStart creates a state and a PKCE verifier for this visitor, keeps
// them in the demo cookie and redirects to the authorization request.
func (a *app) demoStart(c echo.Context) error {
	state, verifier := demoRandom(), demoRandom()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {a.demo.ClientID},
		"redirect_uri":          {a.demo.Redirect},
		"scope":                 {"read write"},
		"state":                 {state},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	c.SetCookie(&http.Cookie{
		Name: demoCookie,
		// Both are base64url, which has no ".".
		Value:    state + "." + verifier,
		Path:     callbackPath,
		MaxAge:   int(demoCookieAge / time.Second),
		HttpOnly: true,
		Secure:   strings.HasPrefix(a.issuer, "https://"),
		// Lax: sent along with the redirect to the callback, a top-level
		// GET.
		SameSite: http.SameSiteLaxMode,
	})
	return c.Redirect(http.StatusFound, a.issuer+authorizePath+"?"+q.Encode())
}

// demoVerifier returns the PKCE verifier of the demo this browser started
// with the given state, if any.
func (a *app) demoVerifier(c echo.Context, state string) (string, bool) {
	if a.demo == nil || state == "" {
		return "", false
	}
	ck, err := c.Cookie(demoCookie)
	if err != nil {
		return "", false
	}
	s, verifier, ok := strings.Cut(ck.Value, ".")
	if !ok || verifier == "" || subtle.ConstantTimeCompare([]byte(s), []byte(state)) != 1 {
		return "", false
	}
	return verifier, true
}

// demoRandom returns 32 random bytes, base64url: 43 characters, a valid
// PKCE verifier (RFC 7636 §4.1) and an unguessable state.
func demoRandom() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}
