package oauth2server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// Client fixtures of newTestEnv. Secrets are what the client sends; the
// model stores only their hashes.
const (
	confID     = "conf"
	confSecret = "conf-secret"
	pubID      = "pub"
	basicID    = "basic-only"
	postID     = "post-only"
	limitedID  = "limited"
	otherID    = "other"
	nohashID   = "no-hash"
	// weirdID and weirdSecret contain the characters RFC 6749 §2.3.1 makes
	// a client form-urlencode before HTTP Basic.
	weirdID     = "id:with%odd+chars"
	weirdSecret = "pa:ss%wo+rd é"
	extGrant    = "urn:example:params:oauth:grant-type:test"
)

// testEnv is a Server over a memorymodel with the fixture clients, mounted
// on Echo the way the README shows.
type testEnv struct {
	t     *testing.T
	model *memorymodel.Model
	srv   *oauth2server.Server
	echo  *echo.Echo
	clock *testClock
}

// newTestEnv builds a testEnv. mutate may change the options before New.
func newTestEnv(t *testing.T, mutate func(*oauth2server.Options)) *testEnv {
	t.Helper()
	clk := newClock()
	m := memorymodel.New(memorymodel.WithClock(clk.Now))
	all := []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantClientCredentials,
		oauth2server.GrantPassword, oauth2server.GrantRefreshToken, extGrant}
	scopes := []string{"read", "write", "admin"}
	for _, c := range []*oauth2server.Client{
		{ID: confID, SecretHash: oauth2server.HashSecret(confSecret), RedirectURIs: []string{testRedirect}, Grants: all, Scopes: scopes},
		{ID: pubID, RedirectURIs: []string{testRedirect}, Grants: all, Scopes: scopes, TokenEndpointAuthMethod: oauth2server.AuthMethodNone},
		{ID: basicID, SecretHash: oauth2server.HashSecret(confSecret), Grants: all, Scopes: scopes,
			TokenEndpointAuthMethod: oauth2server.AuthMethodClientSecretBasic},
		{ID: postID, SecretHash: oauth2server.HashSecret(confSecret), Grants: all, Scopes: scopes,
			TokenEndpointAuthMethod: oauth2server.AuthMethodClientSecretPost},
		{ID: limitedID, SecretHash: oauth2server.HashSecret(confSecret), RedirectURIs: []string{testRedirect},
			Grants: []string{oauth2server.GrantAuthorizationCode}, Scopes: scopes},
		{ID: otherID, SecretHash: oauth2server.HashSecret(confSecret), RedirectURIs: []string{testRedirect}, Grants: all, Scopes: scopes},
		{ID: nohashID, Grants: all, Scopes: scopes, TokenEndpointAuthMethod: oauth2server.AuthMethodClientSecretBasic},
		{ID: weirdID, SecretHash: oauth2server.HashSecret(weirdSecret), Grants: all, Scopes: scopes},
	} {
		require.NoError(t, m.AddClient(context.Background(), c))
	}
	// A fast hash keeps the many test servers cheap; bcrypt is tested in
	// the memorymodel package.
	require.NoError(t, m.AddUser(context.Background(), &oauth2server.User{ID: "u-alice", Username: "alice"}, oauth2server.HashSecret("alice-password")))

	// Faults some tests provoke are logged; keep them out of test output.
	opts := oauth2server.Options{Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if mutate != nil {
		mutate(&opts)
	}
	srv, err := oauth2server.New(m, opts)
	require.NoError(t, err)
	e := echo.New()
	// Any, not POST, so that the endpoint's own method check is reached.
	e.Any("/token", handlers.Token(srv))
	return &testEnv{t: t, model: m, srv: srv, echo: e, clock: clk}
}

// basic returns an Authorization header value with id and secret
// form-urlencoded first, as RFC 6749 §2.3.1 requires.
func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// rawBasic returns an Authorization header value of raw user:pass, without
// the form-urlencoding step.
func rawBasic(userPass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userPass))
}

// tokenReq describes one token request.
type tokenReq struct {
	method      string // default POST
	contentType string // default form; "-" for none
	body        string
	query       string
	auth        string // Authorization header
	auth2       string // a second Authorization header, when not empty
}

// tokenResp is what a client sees.
type tokenResp struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (r tokenReq) build() *http.Request {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	target := "/token"
	if r.query != "" {
		target += "?" + r.query
	}
	req := httptest.NewRequest(method, target, strings.NewReader(r.body))
	switch r.contentType {
	case "":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case "-":
	default:
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	if r.auth2 != "" {
		req.Header.Add("Authorization", r.auth2)
	}
	return req
}

func decodeToken(t *testing.T, rec *httptest.ResponseRecorder) tokenResp {
	t.Helper()
	raw, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	out := tokenResp{status: rec.Code, header: rec.Header(), raw: string(raw)}
	require.NoError(t, json.Unmarshal(raw, &out.body), "body %q", raw)
	return out
}

// do sends r through handlers.Token on Echo.
func (env *testEnv) do(r tokenReq) tokenResp {
	env.t.Helper()
	rec := httptest.NewRecorder()
	env.echo.ServeHTTP(rec, r.build())
	return decodeToken(env.t, rec)
}

// doRequest sends a prepared request through handlers.Token on Echo.
func (env *testEnv) doRequest(req *http.Request) tokenResp {
	env.t.Helper()
	rec := httptest.NewRecorder()
	env.echo.ServeHTTP(rec, req)
	return decodeToken(env.t, rec)
}

// serve sends r through nethttp.Token (net/http).
func (env *testEnv) serve(r tokenReq) tokenResp {
	env.t.Helper()
	rec := httptest.NewRecorder()
	nethttp.Token(env.srv).ServeHTTP(rec, r.build())
	return decodeToken(env.t, rec)
}

// post sends form values with HTTP Basic authentication of the
// confidential fixture client.
func (env *testEnv) post(v url.Values) tokenResp {
	env.t.Helper()
	return env.do(tokenReq{body: v.Encode(), auth: basic(confID, confSecret)})
}

// postPublic sends form values as the public fixture client.
func (env *testEnv) postPublic(v url.Values) tokenResp {
	env.t.Helper()
	v.Set("client_id", pubID)
	return env.do(tokenReq{body: v.Encode()})
}

// requireOK asserts a successful token response.
func requireOK(t *testing.T, r tokenResp) {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assertNoStore(t, r)
	assert.Contains(t, r.header.Get("Content-Type"), "application/json")
	assert.NotEmpty(t, r.body["access_token"])
	assert.Equal(t, "Bearer", r.body["token_type"])
}

// assertNoStore checks the caching headers of every token endpoint
// response.
func assertNoStore(t *testing.T, r tokenResp) {
	t.Helper()
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	assert.Equal(t, "no-cache", r.header.Get("Pragma"))
}

// requireError asserts an error response with its code and status, and
// that invalid_client carries a challenge exactly when wanted.
func requireError(t *testing.T, r tokenResp, status int, code string, challenge bool) {
	t.Helper()
	require.Equal(t, status, r.status, r.raw)
	assert.Equal(t, code, r.body["error"], r.raw)
	assertNoStore(t, r)
	assert.Contains(t, r.header.Get("Content-Type"), "application/json")
	if challenge {
		assert.Equal(t, `Basic realm="oauth2server"`, r.header.Get("WWW-Authenticate"))
	} else {
		assert.Empty(t, r.header.Get("WWW-Authenticate"))
	}
	assert.NotContains(t, r.body, "access_token")
}

// saveCode stores an authorization code directly in the model, as the
// authorization endpoint would.
func (env *testEnv) saveCode(c *oauth2server.AuthorizationCode) {
	env.t.Helper()
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = env.clock.Now().Add(time.Minute)
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = env.clock.Now()
	}
	require.NoError(env.t, env.model.SaveAuthorizationCode(context.Background(), c, nil, nil))
}

// accessToken looks a token up in the model by its access token string.
func (env *testEnv) accessToken(s string) *oauth2server.Token {
	env.t.Helper()
	tok, err := env.model.GetAccessToken(context.Background(), s)
	require.NoError(env.t, err)
	require.NotNil(env.t, tok, "access token not stored")
	return tok
}

// refreshToken looks a token up in the model by its refresh token string.
func (env *testEnv) refreshToken(s string) *oauth2server.Token {
	env.t.Helper()
	tok, err := env.model.GetRefreshToken(context.Background(), s)
	require.NoError(env.t, err)
	require.NotNil(env.t, tok, "refresh token not stored")
	return tok
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
