// Package optest builds the OpenID Provider that the tests of packages
// handlers and nethttp run their endpoints against: a memorymodel with a
// relying party, two users, claims and access tokens, a Server with an
// RS256 key and a clock the test moves, and the code flow that
// gets an ID token.
package optest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// The fixture's names.
const (
	Issuer      = "https://as.example"
	Client      = "rp"
	Secret      = "rp-secret"
	Redirect    = "https://rp.example/cb"
	LogoutURI   = "https://rp.example/logged-out"
	OtherClient = "other" // a second relying party, without logout URIs
	Alice       = "alice" // has claims
	Bob         = "bob"   // has none

	// RFC 7636 Appendix B.
	Verifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

	// Access tokens of client rp.
	TokOpenID  = "tok-openid"  // alice, openid profile email
	TokPlain   = "tok-plain"   // alice, read: no openid
	TokGhost   = "tok-ghost"   // a user deleted since: no claims
	TokExpired = "tok-expired" // alice, openid, expired
)

// Now is the fixture's start time.
var Now = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// AliceClaims are the claims the UserInfo endpoint releases for TokOpenID.
const AliceClaims = `{"sub":"alice","name":"Alice Liddell","email":"alice@example.com","email_verified":true}`

// signingKey is the PEM of the RS256 key of every Fixture of a test
// binary: generating a 2048-bit RSA key takes about a second under the race
// detector, once per binary rather than once per fixture. Nothing writes
// to it.
var signingKey = sync.OnceValues(func() (string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
})

// Fixture is an OpenID Provider with its model and clock.
type Fixture struct {
	T     testing.TB
	Model *memorymodel.Model
	Srv   *oauth2server.Server
	clock *atomic.Pointer[time.Time]
}

// New returns a Fixture whose Options mutate may change (nil for none).
func New(t testing.TB, mutate func(*oauth2server.Options)) *Fixture {
	t.Helper()
	clock := &atomic.Pointer[time.Time]{}
	now := Now
	clock.Store(&now)
	tick := func() time.Time { return *clock.Load() }
	m := memorymodel.New(memorymodel.WithClock(tick))
	ctx := context.Background()
	code := []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantRefreshToken}
	secret := oauth2server.HashSecret(Secret)
	require.NoError(t, m.AddClient(ctx, &oauth2server.Client{ID: Client, SecretHash: secret,
		RedirectURIs: []string{Redirect}, PostLogoutRedirectURIs: []string{LogoutURI},
		Grants: code, Scopes: []string{"openid", "profile", "email", "read"}}))
	require.NoError(t, m.AddClient(ctx, &oauth2server.Client{ID: OtherClient, SecretHash: secret,
		RedirectURIs: []string{"https://other.example/cb"}, Grants: code, Scopes: []string{"openid"}}))
	for _, id := range []string{Alice, Bob} {
		require.NoError(t, m.AddUser(ctx, &oauth2server.User{ID: id, Username: id}, oauth2server.HashSecret("pw")))
	}
	require.NoError(t, m.SetUserClaims(ctx, Alice, map[string]any{
		"name": "Alice Liddell", "email": "alice@example.com", "email_verified": true, "phone_number": "+44 1"}))
	for _, tok := range []*oauth2server.Token{
		{AccessToken: TokOpenID, Scope: []string{"openid", "profile", "email"}, UserID: Alice},
		{AccessToken: TokPlain, Scope: []string{"read"}, UserID: Alice},
		{AccessToken: TokGhost, Scope: []string{"openid", "profile"}, UserID: "ghost"},
		{AccessToken: TokExpired, Scope: []string{"openid"}, UserID: Alice, AccessTokenExpiresAt: Now.Add(-time.Second)},
	} {
		tok.ClientID = Client
		if tok.AccessTokenExpiresAt.IsZero() {
			tok.AccessTokenExpiresAt = Now.Add(time.Hour)
		}
		require.NoError(t, m.SaveToken(ctx, tok, nil, nil))
	}
	key, err := signingKey()
	require.NoError(t, err)
	opts := oauth2server.Options{Issuer: Issuer, OpenID: &oauth2server.OpenIDOptions{},
		SigningKeys: []oauth2server.SigningKey{{PEM: key}}, Now: tick, Logger: slog.New(slog.DiscardHandler)}
	if mutate != nil {
		mutate(&opts)
	}
	srv, err := oauth2server.New(m, opts)
	require.NoError(t, err)
	return &Fixture{T: t, Model: m, Srv: srv, clock: clock}
}

// Now returns the fixture's clock.
func (f *Fixture) Now() time.Time { return *f.clock.Load() }

// Advance moves the clock of the Server and its model.
func (f *Fixture) Advance(d time.Duration) {
	now := f.clock.Load().Add(d)
	f.clock.Store(&now)
}

// IDToken runs the code flow of client for userID with the Server's own
// API and returns the ID token of the code exchange.
func (f *Fixture) IDToken(client, userID string) string {
	t := f.T
	t.Helper()
	redirect := Redirect
	if client == OtherClient {
		redirect = "https://other.example/cb"
	}
	q := url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {redirect}, "state": {"s"},
		"scope": {"openid"}, "nonce": {"n"}, "code_challenge": {Challenge}, "code_challenge_method": {"S256"}}
	ar, err := f.Srv.ValidateAuthorizeRequest(httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil))
	require.NoError(t, err)
	target, err := f.Srv.Authorize(context.Background(), ar, &oauth2server.User{ID: userID},
		oauth2server.Decision{Approved: true, Authentication: oauth2server.Authentication{Time: f.Now()}})
	require.NoError(t, err)
	u, err := url.Parse(target)
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
		"code": {u.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {Verifier}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(client, Secret)
	resp, err := f.Srv.Token(r)
	require.NoError(t, err)
	require.NotEmpty(t, resp.IDToken)
	return resp.IDToken
}

// Request is one request of a table test.
type Request struct {
	Method      string
	Target      string
	Header      http.Header
	ContentType string
	Body        string
}

// Serve sends q to h.
func (q Request) Serve(h http.Handler) *httptest.ResponseRecorder {
	req := httptest.NewRequest(q.Method, q.Target, strings.NewReader(q.Body))
	for k, v := range q.Header {
		req.Header[k] = v
	}
	if q.ContentType != "" {
		req.Header.Set("Content-Type", q.ContentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
