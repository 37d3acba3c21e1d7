package handlers_test

import (
	"context"
	stderrors "errors"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

const (
	testIssuer   = "https://as.example"
	confRedirect = "https://client.example/cb"
	pubRedirect  = "http://127.0.0.1/cb"
	impRedirect  = "https://spa.example/cb"
	queryRedir   = "https://client.example/cb?tenant=a&x=1"
	// RFC 7636 Appendix B.
	testVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	testChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	userHeader    = "X-Test-User"
)

var testNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

type fixture struct {
	t     *testing.T
	model *memorymodel.Model
	srv   *oauth2server.Server
	e     *echo.Echo
	now   *time.Time
}

// userFromHeader stands in for a session lookup: the user named by a test
// header, or nobody.
func userFromHeader(c echo.Context) (*oauth2server.User, error) {
	id := c.Request().Header.Get(userHeader)
	if id == "" {
		return nil, nil
	}
	return &oauth2server.User{ID: id, Username: id}, nil
}

func addClients(t *testing.T, m *memorymodel.Model) {
	code := []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantRefreshToken}
	secret := oauth2server.HashSecret("s3cret")
	for _, c := range []*oauth2server.Client{
		{ID: "conf", SecretHash: secret, RedirectURIs: []string{confRedirect}, Grants: code, Scopes: []string{"read", "write"}},
		{ID: "pub", RedirectURIs: []string{pubRedirect, "com.example.app:/cb"}, Grants: code, Scopes: []string{"read"}},
		{ID: "pub1", RedirectURIs: []string{pubRedirect}, Grants: code, Scopes: []string{"read"}},
		{ID: "two", SecretHash: secret, RedirectURIs: []string{confRedirect, "https://client.example/other"}, Grants: code},
		{ID: "none", SecretHash: secret, Grants: code},
		{ID: "cc", SecretHash: secret, RedirectURIs: []string{confRedirect}, Grants: []string{oauth2server.GrantClientCredentials}},
		{ID: "query", SecretHash: secret, RedirectURIs: []string{queryRedir}, Grants: code, Scopes: []string{"read"}},
		{ID: "loopconf", SecretHash: secret, RedirectURIs: []string{"http://127.0.0.1:8080/cb"}, Grants: code},
		{ID: "badreg", SecretHash: secret, RedirectURIs: []string{"http://client.example/cb"}, Grants: code},
		{ID: "imp", RedirectURIs: []string{impRedirect}, Grants: []string{oauth2server.GrantImplicit}, Scopes: []string{"read"}},
	} {
		require.NoError(t, m.AddClient(context.Background(), c))
	}
}

func newFixture(t *testing.T, opts oauth2server.Options, cfg handlers.AuthorizeConfig) *fixture {
	t.Helper()
	now := testNow
	f := &fixture{t: t, now: &now}
	f.model = memorymodel.New(memorymodel.WithClock(func() time.Time { return *f.now }))
	addClients(t, f.model)
	if opts.Issuer == "" {
		opts.Issuer = testIssuer
	}
	opts.Now = func() time.Time { return *f.now }
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var err error
	f.srv, err = oauth2server.New(f.model, opts)
	require.NoError(t, err)
	if cfg.UserFromRequest == nil {
		cfg.UserFromRequest = userFromHeader
	}
	f.e = echo.New()
	cfg.Server = f.srv
	f.e.Any("/authorize", handlers.AuthorizeWithConfig(cfg))
	f.e.POST("/token", handlers.Token(f.srv))
	return f
}

func (f *fixture) do(method, target, user string, body url.Values) *httptest.ResponseRecorder {
	var req *http.Request
	if body != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	if user != "" {
		req.Header.Set(userHeader, user)
	}
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec
}

var (
	csrfRe   = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	actionRe = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// consent GETs the consent page for query and returns the form's action
// and CSRF token.
func (f *fixture) consent(query url.Values, user string) (action, token string) {
	f.t.Helper()
	rec := f.do(http.MethodGet, "/authorize?"+query.Encode(), user, nil)
	require.Equal(f.t, http.StatusOK, rec.Code, rec.Body.String())
	return pageForm(f.t, rec.Body.String())
}

func pageForm(t *testing.T, body string) (action, token string) {
	t.Helper()
	m := actionRe.FindStringSubmatch(body)
	require.Len(t, m, 2, body)
	tm := csrfRe.FindStringSubmatch(body)
	require.Len(t, tm, 2, body)
	return html.UnescapeString(m[1]), html.UnescapeString(tm[1])
}

// approve runs GET then POST approve and returns the POST response.
func (f *fixture) approve(query url.Values, user string) *httptest.ResponseRecorder {
	f.t.Helper()
	action, token := f.consent(query, user)
	return f.do(http.MethodPost, "/authorize"+action, user,
		url.Values{"csrf_token": {token}, "decision": {"approve"}})
}

// codeQuery is a valid code request of client "conf".
func codeQuery(kv ...string) url.Values {
	v := url.Values{"response_type": {"code"}, "client_id": {"conf"}, "redirect_uri": {confRedirect},
		"state": {"xyz"}, "scope": {"read"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// errLocation is the exact Location of an error redirect.
func errLocation(base, code, desc, state string) string {
	v := url.Values{"error": {code}, "iss": {testIssuer}}
	if desc != "" {
		v.Set("error_description", desc)
	}
	if state != "" {
		v.Set("state", state)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + v.Encode()
}

// assertPageHeaders checks the headers every authorization endpoint
// response carries.
func assertPageHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
	assert.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	assert.Empty(t, h.Get("Access-Control-Allow-Origin"))
}

// assertShown checks an error that is shown, not redirected. R-33
func assertShown(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	assert.Equal(t, status, rec.Code, rec.Body.String())
	assert.Empty(t, rec.Header().Get("Location"))
	assert.Contains(t, rec.Header().Get("Content-Type"), "text/html")
	assert.Contains(t, rec.Body.String(), "<code>"+code+"</code>")
	assertPageHeaders(t, rec)
}

// failingModel wraps memorymodel with faults, to test storage errors.
type failingModel struct {
	*memorymodel.Model
	failGetClient bool
}

var errStorage = stderrors.New("storage is down")

func (m *failingModel) GetClient(ctx context.Context, id string) (*oauth2server.Client, error) {
	if m.failGetClient {
		return nil, errStorage
	}
	return m.Model.GetClient(ctx, id)
}

// failingScopes is a model whose ValidateScope fails.
type failingScopes struct{ *memorymodel.Model }

func (failingScopes) ValidateScope(context.Context, *oauth2server.Client, *oauth2server.User, []string) ([]string, error) {
	return nil, errStorage
}

func (f *fixture) doRaw(method, target, user, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(userHeader, user)
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec
}

func (f *fixture) doWithOrigin(method, target, user string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.Header.Set(userHeader, user)
	req.Header.Set("Origin", "https://evil.example")
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec
}

func serve(e *echo.Echo, method, target, user string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.Header.Set(userHeader, user)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}
