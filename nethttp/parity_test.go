package nethttp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	stderrors "errors"
	"html"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/internal/optest"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	oauthmw "github.com/echo-oauth2/oauth2server/middleware"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

var testNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

const (
	testIssuer = "https://as.example"
	goodToken  = "good-token"
	readToken  = "read-token"
	formType   = "application/x-www-form-urlencoded"
)

// newServer returns a Server with a confidential client "app" that may
// introspect, and two access tokens: goodToken (read write) and readToken
// (read).
func newServer(t *testing.T) *oauth2server.Server {
	t.Helper()
	m := memorymodel.New(memorymodel.WithClock(func() time.Time { return testNow }))
	ctx := context.Background()
	require.NoError(t, m.AddClient(ctx, &oauth2server.Client{ID: "app", SecretHash: oauth2server.HashSecret("app-secret"),
		Grants: []string{oauth2server.GrantClientCredentials, oauth2server.GrantDeviceCode, oauth2server.GrantRefreshToken,
			oauth2server.GrantPassword, oauth2server.GrantAuthorizationCode},
		RedirectURIs: []string{"https://app.example/cb"},
		Scopes:       []string{"read", "write"}, Introspect: true}))
	require.NoError(t, m.AddUser(ctx, &oauth2server.User{ID: "alice", Username: "alice"}, oauth2server.HashSecret("pw")))
	for _, tok := range []*oauth2server.Token{
		{AccessToken: goodToken, AccessTokenExpiresAt: testNow.Add(time.Hour), Scope: []string{"read", "write"}, ClientID: "app", UserID: "alice"},
		{AccessToken: readToken, AccessTokenExpiresAt: testNow.Add(time.Hour), Scope: []string{"read"}, ClientID: "app"},
	} {
		require.NoError(t, m.SaveToken(ctx, tok, nil, nil))
	}
	srv, err := oauth2server.New(m, oauth2server.Options{Issuer: testIssuer, MaxBodyBytes: 1024,
		Now: func() time.Time { return testNow }, Logger: slog.New(slog.DiscardHandler), AllowPasswordGrant: true,
		LoginThrottle: oauth2server.LoginThrottleOptions{FreeFailures: -1},
		Device:        oauth2server.DeviceOptions{VerificationURI: testIssuer + "/device"}})
	require.NoError(t, err)
	return srv
}

// protectedHandler answers with the token the middleware verified.
func protectedHandler(tok *oauth2server.Token, ok bool, w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		_, _ = w.Write([]byte(`{"token":null}`))
		return
	}
	b, _ := json.Marshal(map[string]any{"token": tok.AccessToken, "user": tok.UserID})
	_, _ = w.Write(b)
}

// echoMount serves srv the Echo way: handlers.Register and
// middleware.Authenticate.
func echoMount(t *testing.T, srv *oauth2server.Server) http.Handler {
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), srv, handlers.RegisterConfig{}))
	h := func(c echo.Context) error {
		tok, ok := oauthmw.TokenFromContext(c)
		protectedHandler(tok, ok, c.Response())
		return nil
	}
	api := e.Group("/api", oauthmw.Authenticate(srv))
	api.GET("/profile", h)
	api.GET("/admin", h, oauthmw.RequireScope("admin"))
	api.GET("/write", h, oauthmw.RequireScope("write"))
	scoped := e.Group("/scoped", oauthmw.AuthenticateWithConfig(oauthmw.AuthenticateConfig{
		Server: srv, Scope: []string{"write"}, AllowQueryToken: true, AddScopeHeaders: true}))
	scoped.GET("/data", h)
	return e
}

// netMount serves srv with package nethttp on an http.ServeMux.
func netMount(t *testing.T, srv *oauth2server.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/token", nethttp.Token(srv))
	mux.Handle("/revoke", nethttp.Revoke(srv))
	mux.Handle("/introspect", nethttp.Introspect(srv))
	mux.Handle("/device_authorization", nethttp.DeviceAuthorization(srv))
	mux.Handle("/par", nethttp.PushedAuthorization(srv))
	meta, err := nethttp.MetadataConfig{Server: srv, Endpoints: oauth2server.Endpoints{
		Token: testIssuer + "/token", Revocation: testIssuer + "/revoke", Introspection: testIssuer + "/introspect",
		DeviceAuthorization: testIssuer + "/device_authorization", PushedAuthorization: testIssuer + "/par"}}.ToHandler()
	require.NoError(t, err)
	mux.Handle("GET /.well-known/oauth-authorization-server", meta)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := nethttp.TokenFromContext(r.Context())
		protectedHandler(tok, ok, w)
	})
	auth := nethttp.Authenticate(srv)
	mux.Handle("GET /api/profile", auth(h))
	mux.Handle("GET /api/admin", auth(nethttp.RequireScope("admin")(h)))
	mux.Handle("GET /api/write", auth(nethttp.RequireScope("write")(h)))
	scoped := nethttp.AuthenticateWithConfig(nethttp.AuthenticateConfig{
		Server: srv, Scope: []string{"write"}, AllowQueryToken: true, AddScopeHeaders: true})
	mux.Handle("GET /scoped/data", scoped(h))
	return mux
}

// normalize replaces the values that differ between two servers (fresh
// random tokens and device codes) in a JSON body.
func normalize(t *testing.T, body string) string {
	t.Helper()
	if body == "" {
		return ""
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &m), body)
	for _, k := range []string{"access_token", "refresh_token", "device_code", "user_code", "verification_uri_complete",
		"request_uri"} {
		if _, ok := m[k]; ok {
			m[k] = "<" + k + ">"
		}
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

// The same requests get the same answers from the Echo mount
// (handlers.Register, middleware.Authenticate) and the net/http mount
// (package nethttp on an http.ServeMux): status, the protocol headers and
// the JSON body.
func TestParityWithEcho(t *testing.T) {
	t.Parallel()
	basic := "Basic YXBwOmFwcC1zZWNyZXQ=" // app:app-secret
	badBasic := "Basic YXBwOndyb25n"      // app:wrong
	var testCases = []struct {
		name            string
		whenMethod      string
		whenPath        string
		whenContentType string
		whenBody        string
		whenAuth        string
		whenRepeat      int // send the request this many times more first
		expectStatus    int
	}{
		{name: "nok, password grant throttled is 429 with Retry-After", whenMethod: http.MethodPost, whenPath: "/token",
			whenContentType: formType, whenBody: "grant_type=password&username=alice&password=wrong", whenAuth: basic,
			whenRepeat: 1, expectStatus: http.StatusTooManyRequests},
		{name: "ok, token client_credentials", whenMethod: http.MethodPost, whenPath: "/token", whenContentType: formType,
			whenBody: "grant_type=client_credentials&scope=read", whenAuth: basic, expectStatus: http.StatusOK},
		{name: "nok, token invalid_client with Basic", whenMethod: http.MethodPost, whenPath: "/token", whenContentType: formType,
			whenBody: "grant_type=client_credentials", whenAuth: badBasic, expectStatus: http.StatusUnauthorized},
		{name: "nok, token invalid_client in body", whenMethod: http.MethodPost, whenPath: "/token", whenContentType: formType,
			whenBody: "grant_type=client_credentials&client_id=app&client_secret=wrong", expectStatus: http.StatusUnauthorized},
		{name: "nok, token unsupported_grant_type", whenMethod: http.MethodPost, whenPath: "/token", whenContentType: formType,
			whenBody: "grant_type=nope", whenAuth: basic, expectStatus: http.StatusBadRequest},
		{name: "nok, token GET is 405", whenMethod: http.MethodGet, whenPath: "/token", expectStatus: http.StatusMethodNotAllowed},
		{name: "nok, token PUT is 405", whenMethod: http.MethodPut, whenPath: "/token", whenContentType: formType,
			whenBody: "grant_type=client_credentials", whenAuth: basic, expectStatus: http.StatusMethodNotAllowed},
		{name: "nok, token body too large is 413", whenMethod: http.MethodPost, whenPath: "/token", whenContentType: formType,
			whenBody: "grant_type=client_credentials&scope=" + strings.Repeat("a", 2048), whenAuth: basic,
			expectStatus: http.StatusRequestEntityTooLarge},
		{name: "nok, token JSON body is 415", whenMethod: http.MethodPost, whenPath: "/token", whenContentType: "application/json",
			whenBody: `{"grant_type":"client_credentials"}`, whenAuth: basic, expectStatus: http.StatusUnsupportedMediaType},
		{name: "ok, revoke a token", whenMethod: http.MethodPost, whenPath: "/revoke", whenContentType: formType,
			whenBody: "token=" + goodToken, whenAuth: basic, expectStatus: http.StatusOK},
		{name: "ok, revoke an unknown token", whenMethod: http.MethodPost, whenPath: "/revoke", whenContentType: formType,
			whenBody: "token=unknown", whenAuth: basic, expectStatus: http.StatusOK},
		{name: "nok, revoke without client", whenMethod: http.MethodPost, whenPath: "/revoke", whenContentType: formType,
			whenBody: "token=" + goodToken, expectStatus: http.StatusUnauthorized},
		{name: "nok, revoke GET is 405", whenMethod: http.MethodGet, whenPath: "/revoke", expectStatus: http.StatusMethodNotAllowed},
		{name: "ok, introspect an active token", whenMethod: http.MethodPost, whenPath: "/introspect", whenContentType: formType,
			whenBody: "token=" + goodToken, whenAuth: basic, expectStatus: http.StatusOK},
		{name: "ok, introspect an unknown token", whenMethod: http.MethodPost, whenPath: "/introspect", whenContentType: formType,
			whenBody: "token=unknown", whenAuth: basic, expectStatus: http.StatusOK},
		{name: "nok, introspect with a wrong secret", whenMethod: http.MethodPost, whenPath: "/introspect", whenContentType: formType,
			whenBody: "token=" + goodToken, whenAuth: badBasic, expectStatus: http.StatusUnauthorized},
		{name: "ok, device authorization", whenMethod: http.MethodPost, whenPath: "/device_authorization", whenContentType: formType,
			whenBody: "scope=read", whenAuth: basic, expectStatus: http.StatusOK},
		{name: "ok, pushed authorization request", whenMethod: http.MethodPost, whenPath: "/par", whenContentType: formType,
			whenBody: "response_type=code&scope=read&state=s&code_challenge=" + strings.Repeat("c", 43) + "&code_challenge_method=S256",
			whenAuth: basic, expectStatus: http.StatusCreated},
		{name: "nok, pushed authorization request with a wrong secret", whenMethod: http.MethodPost, whenPath: "/par",
			whenContentType: formType, whenBody: "response_type=code&state=s", whenAuth: badBasic, expectStatus: http.StatusUnauthorized},
		{name: "nok, pushed authorization request with request_uri", whenMethod: http.MethodPost, whenPath: "/par",
			whenContentType: formType, whenBody: "response_type=code&state=s&request_uri=urn:x", whenAuth: basic,
			expectStatus: http.StatusBadRequest},
		{name: "nok, pushed authorization request GET is 405", whenMethod: http.MethodGet, whenPath: "/par",
			expectStatus: http.StatusMethodNotAllowed},
		{name: "ok, metadata", whenMethod: http.MethodGet, whenPath: "/.well-known/oauth-authorization-server", expectStatus: http.StatusOK},
		{name: "ok, protected route with a token", whenMethod: http.MethodGet, whenPath: "/api/profile",
			whenAuth: "Bearer " + goodToken, expectStatus: http.StatusOK},
		{name: "nok, protected route without a token", whenMethod: http.MethodGet, whenPath: "/api/profile",
			expectStatus: http.StatusUnauthorized},
		{name: "nok, protected route HEAD without a token", whenMethod: http.MethodHead, whenPath: "/api/profile",
			expectStatus: http.StatusUnauthorized},
		{name: "nok, protected route with an unknown token", whenMethod: http.MethodGet, whenPath: "/api/profile",
			whenAuth: "Bearer unknown", expectStatus: http.StatusUnauthorized},
		{name: "nok, protected route with a malformed header", whenMethod: http.MethodGet, whenPath: "/api/profile",
			whenAuth: "Bearer a b", expectStatus: http.StatusBadRequest},
		{name: "nok, protected route with a query token not allowed", whenMethod: http.MethodGet, whenPath: "/api/profile?access_token=" + goodToken,
			expectStatus: http.StatusUnauthorized},
		{name: "ok, RequireScope covered", whenMethod: http.MethodGet, whenPath: "/api/write",
			whenAuth: "Bearer " + goodToken, expectStatus: http.StatusOK},
		{name: "nok, RequireScope insufficient_scope", whenMethod: http.MethodGet, whenPath: "/api/admin",
			whenAuth: "Bearer " + goodToken, expectStatus: http.StatusForbidden},
		{name: "nok, RequireScope without a token", whenMethod: http.MethodGet, whenPath: "/api/admin",
			expectStatus: http.StatusUnauthorized},
		{name: "ok, configured scope with a query token", whenMethod: http.MethodGet, whenPath: "/scoped/data?access_token=" + goodToken,
			expectStatus: http.StatusOK},
		{name: "nok, configured scope insufficient", whenMethod: http.MethodGet, whenPath: "/scoped/data",
			whenAuth: "Bearer " + readToken, expectStatus: http.StatusForbidden},
		{name: "nok, token in header and query", whenMethod: http.MethodGet, whenPath: "/scoped/data?access_token=" + goodToken,
			whenAuth: "Bearer " + goodToken, expectStatus: http.StatusBadRequest},
		{name: "nok, repeated query token", whenMethod: http.MethodGet, whenPath: "/scoped/data?access_token=a&access_token=b",
			expectStatus: http.StatusBadRequest},
	}
	headers := []string{"Cache-Control", "Pragma", "Content-Type", "WWW-Authenticate", "Allow", "Retry-After",
		"X-OAuth-Scopes", "X-Accepted-OAuth-Scopes"}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			serve := func(h http.Handler) *httptest.ResponseRecorder {
				var body *strings.Reader
				if tc.whenBody != "" {
					body = strings.NewReader(tc.whenBody)
				}
				req := httptest.NewRequest(tc.whenMethod, testIssuer+tc.whenPath, nil)
				if body != nil {
					req = httptest.NewRequest(tc.whenMethod, testIssuer+tc.whenPath, body)
				}
				if tc.whenContentType != "" {
					req.Header.Set("Content-Type", tc.whenContentType)
				}
				if tc.whenAuth != "" {
					req.Header.Set("Authorization", tc.whenAuth)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			echoH, netH := echoMount(t, newServer(t)), netMount(t, newServer(t))
			for range tc.whenRepeat {
				serve(echoH)
				serve(netH)
			}
			viaEcho, viaNet := serve(echoH), serve(netH)

			assert.Equal(t, tc.expectStatus, viaEcho.Code, "Echo: %s", viaEcho.Body)
			assert.Equal(t, tc.expectStatus, viaNet.Code, "net/http: %s", viaNet.Body)
			switch tc.expectStatus {
			case http.StatusUnauthorized, http.StatusForbidden:
				assert.NotEmpty(t, viaNet.Header().Get("WWW-Authenticate"))
			case http.StatusTooManyRequests:
				assert.NotEmpty(t, viaNet.Header().Get("Retry-After"))
			case http.StatusMethodNotAllowed:
				assert.Equal(t, http.MethodPost, viaNet.Header().Get("Allow"))
			}
			for _, h := range headers {
				assert.Equal(t, viaEcho.Header().Values(h), viaNet.Header().Values(h), h)
			}
			if viaEcho.Body.Len() == 0 {
				assert.Empty(t, viaNet.Body.String())
				return
			}
			assert.JSONEq(t, normalize(t, viaEcho.Body.String()), normalize(t, viaNet.Body.String()))
		})
	}
}

const (
	authzRedirect = "https://client.example/cb"
	userHeader    = "X-Test-User"
	sessionHeader = "X-Test-Session"
	faultyUser    = "fault" // UserFromRequest fails for this user
)

var (
	errSessionStore = stderrors.New("session store is down")
	csrfFieldRe     = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	formActionRe    = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// authzSide is one layer's authorization endpoint with its own Server,
// model and clock.
type authzSide struct {
	name  string
	h     http.Handler
	srv   *oauth2server.Server
	model *memorymodel.Model
	clock *atomic.Pointer[time.Time]
}

// userFromRequest stands in for a session lookup: the user named by a
// test header, nobody without it, a fault for faultyUser.
func userFromRequest(r *http.Request) (*oauth2server.User, error) {
	switch id := r.Header.Get(userHeader); id {
	case "":
		return nil, nil
	case faultyUser:
		return nil, errSessionStore
	default:
		return &oauth2server.User{ID: id, Username: id}, nil
	}
}

func sessionFromRequest(r *http.Request) (string, error) { return r.Header.Get(sessionHeader), nil }

// newAuthzServer returns a Server with a confidential client "web" for the
// code flow, whose clock and model's clock is the returned pointer.
func newAuthzServer(t *testing.T) (*oauth2server.Server, *memorymodel.Model, *atomic.Pointer[time.Time]) {
	t.Helper()
	clock := &atomic.Pointer[time.Time]{}
	now := testNow
	clock.Store(&now)
	tick := func() time.Time { return *clock.Load() }
	m := memorymodel.New(memorymodel.WithClock(tick))
	require.NoError(t, m.AddClient(context.Background(), &oauth2server.Client{ID: "web",
		SecretHash: oauth2server.HashSecret("web-secret"), RedirectURIs: []string{authzRedirect},
		Grants: []string{oauth2server.GrantAuthorizationCode}, Scopes: []string{"read", "write"}}))
	srv, err := oauth2server.New(m, oauth2server.Options{Issuer: testIssuer, Now: tick,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return srv, m, clock
}

// echoAuthz mounts the endpoint with package handlers: /authorize with
// the default login page, /authorize-login with RedirectToLogin, and the
// token endpoint to redeem codes.
func echoAuthz(t *testing.T) *authzSide {
	srv, m, clock := newAuthzServer(t)
	cfg := handlers.AuthorizeConfig{
		Server:             srv,
		UserFromRequest:    func(c echo.Context) (*oauth2server.User, error) { return userFromRequest(c.Request()) },
		SessionFromRequest: func(c echo.Context) (string, error) { return sessionFromRequest(c.Request()) },
		CSRFMaxAge:         10 * time.Minute,
		Consents:           m,
	}
	e := echo.New()
	// A CORS middleware in front, whose headers the endpoint removes.
	e.Use(middleware.CORSWithConfig(middleware.CORSConfig{AllowOrigins: []string{"*"}}))
	e.Any("/authorize", handlers.AuthorizeWithConfig(cfg))
	cfg.LoginRequired = handlers.RedirectToLogin("/login")
	e.Any("/authorize-login", handlers.AuthorizeWithConfig(cfg))
	e.Any("/token", handlers.Token(srv))
	return &authzSide{name: "Echo", h: e, srv: srv, model: m, clock: clock}
}

// netAuthz mounts the same with package nethttp.
func netAuthz(t *testing.T) *authzSide {
	srv, m, clock := newAuthzServer(t)
	cfg := nethttp.AuthorizeConfig{
		Server:             srv,
		UserFromRequest:    userFromRequest,
		SessionFromRequest: sessionFromRequest,
		CSRFMaxAge:         10 * time.Minute,
		Consents:           m,
	}
	mux := http.NewServeMux()
	mux.Handle("/authorize", nethttp.AuthorizeWithConfig(cfg))
	cfg.LoginRequired = nethttp.RedirectToLogin("/login")
	mux.Handle("/authorize-login", nethttp.AuthorizeWithConfig(cfg))
	mux.Handle("/token", nethttp.Token(srv))
	// A CORS middleware in front, whose headers the endpoint removes.
	cors := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		mux.ServeHTTP(w, r)
	})
	return &authzSide{name: "net/http", h: cors, srv: srv, model: m, clock: clock}
}

// do sends one request as user (none when "") in session "s1".
func (s *authzSide) do(method, target, user string, form url.Values) *httptest.ResponseRecorder {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, testIssuer+target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", formType)
	} else {
		req = httptest.NewRequest(method, testIssuer+target, nil)
	}
	if user != "" {
		req.Header.Set(userHeader, user)
	}
	req.Header.Set(sessionHeader, "s1")
	req.Header.Set("Origin", "https://elsewhere.example")
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// consentForm returns the action and CSRF token of a consent page.
func consentForm(t *testing.T, rec *httptest.ResponseRecorder) (action, token string) {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	a := formActionRe.FindStringSubmatch(rec.Body.String())
	require.Len(t, a, 2, rec.Body.String())
	tok := csrfFieldRe.FindStringSubmatch(rec.Body.String())
	require.Len(t, tok, 2, rec.Body.String())
	return html.UnescapeString(a[1]), html.UnescapeString(tok[1])
}

// authzQuery is a valid code request of client "web", with kv replacing
// (or, with "", removing) parameters.
func authzQuery(kv ...string) string {
	v := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {authzRedirect},
		"state": {"xyz"}, "scope": {"read"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v.Encode()
}

// location returns the query of a response's Location, which must be at
// the client's redirect URI.
func location(t *testing.T, rec *httptest.ResponseRecorder) url.Values {
	t.Helper()
	loc, err := url.Parse(rec.Header().Get("Location"))
	require.NoError(t, err)
	require.Equal(t, authzRedirect, loc.Scheme+"://"+loc.Host+loc.Path, "Location")
	return loc.Query()
}

// normalizePage replaces what differs between two servers in an answer of
// the authorization endpoint: the consent form's CSRF token (its nonce and
// MAC), and the code in a Location.
func normalizePage(t *testing.T, rec *httptest.ResponseRecorder) (body, loc string) {
	t.Helper()
	body = csrfFieldRe.ReplaceAllString(rec.Body.String(), `name="csrf_token" value="<csrf>"`)
	loc = rec.Header().Get("Location")
	if u, err := url.Parse(loc); err == nil && u.Query().Has("code") {
		q := u.Query()
		q.Set("code", "<code>")
		u.RawQuery = q.Encode()
		loc = u.String()
	}
	return body, loc
}

// assertPageHeaders checks the headers every answer of the authorization
// endpoint carries: no framing, no referrer, no caching, no CORS.
func assertPageHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
	assert.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	assert.Empty(t, h.Get("Access-Control-Allow-Origin"))
}

// assertErrorPage checks an error shown to the user, not redirected.
func assertErrorPage(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	assert.Equal(t, status, rec.Code, rec.Body.String())
	assert.Empty(t, rec.Header().Get("Location"), "shown, never redirected")
	assert.Equal(t, "text/html; charset=UTF-8", rec.Header().Get("Content-Type"))
	assert.Contains(t, rec.Body.String(), "<code>"+code+"</code>")
}

// The authorization endpoint answers the same through package handlers
// and package nethttp: each case runs the same steps against both, which
// must agree on every answer's status, headers, Location and page (the
// CSRF token and the code aside), and must each behave as expected.
func TestAuthorizeParityWithEcho(t *testing.T) {
	t.Parallel()
	approve := func(t *testing.T, s *authzSide, user string) (page, post *httptest.ResponseRecorder) {
		page = s.do(http.MethodGet, "/authorize?"+authzQuery(), user, nil)
		action, token := consentForm(t, page)
		post = s.do(http.MethodPost, "/authorize"+action, user,
			url.Values{nethttp.FieldCSRFToken: {token}, nethttp.FieldDecision: {nethttp.DecisionApprove}})
		return page, post
	}
	var testCases = []struct {
		name string
		// whenSteps sends the requests; their answers are compared.
		whenSteps func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder
		// expect checks the answers of one side and its stored state.
		expect func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder)
	}{
		{
			name: "ok, GET shows the consent page",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{
					s.do(http.MethodGet, "/authorize?"+authzQuery("scope", "read write"), "alice", nil),
					s.do(http.MethodHead, "/authorize?"+authzQuery("scope", "read write"), "alice", nil),
				}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				for _, rec := range recs {
					assert.Equal(t, http.StatusOK, rec.Code)
					assert.Empty(t, rec.Header().Get("Location"))
					assert.Equal(t, "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
						rec.Header().Get("Content-Security-Policy"))
					assert.Contains(t, rec.Body.String(), "<li>write</li>")
					action, token := consentForm(t, rec)
					assert.Equal(t, "?"+authzQuery("scope", "read write"), action)
					assert.Len(t, strings.Split(token, "."), 3, "time.nonce.mac")
				}
			},
		},
		{
			name: "nok, without a user the default page asks to log in",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{
					s.do(http.MethodGet, "/authorize?"+authzQuery(), "", nil),
					// Not even a redirectable error goes to the client.
					s.do(http.MethodGet, "/authorize?"+authzQuery("scope", "admin"), "", nil),
				}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				for _, rec := range recs {
					assertErrorPage(t, rec, http.StatusUnauthorized, "login_required")
				}
			},
		},
		{
			name: "nok, without a user RedirectToLogin sends to the login page",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{
					s.do(http.MethodGet, "/authorize-login?"+authzQuery(), "", nil),
					s.do(http.MethodPost, "/authorize-login?"+authzQuery(), "", url.Values{"decision": {"approve"}}),
				}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				want := "/login?return_to=" + url.QueryEscape("/authorize-login?"+authzQuery())
				assert.Equal(t, http.StatusFound, recs[0].Code)
				assert.Equal(t, want, recs[0].Header().Get("Location"))
				assert.Equal(t, http.StatusSeeOther, recs[1].Code, "after POST")
				assert.Equal(t, want, recs[1].Header().Get("Location"))
			},
		},
		{
			name: "nok, an unknown client is shown, not redirected",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{
					s.do(http.MethodGet, "/authorize?"+authzQuery("client_id", "nobody"), "alice", nil),
					s.do(http.MethodPost, "/authorize?"+authzQuery("client_id", "nobody"), "alice", url.Values{"decision": {"approve"}}),
				}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				for _, rec := range recs {
					assertErrorPage(t, rec, http.StatusBadRequest, "invalid_request")
					assert.Contains(t, rec.Body.String(), "The client_id is not registered.")
				}
			},
		},
		{
			name: "nok, an unregistered redirect URI is shown, not redirected",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{
					s.do(http.MethodGet, "/authorize?"+authzQuery("redirect_uri", "https://evil.example/cb"), "alice", nil),
					// Also when another error could have been redirected.
					s.do(http.MethodGet, "/authorize?"+authzQuery("redirect_uri", "https://evil.example/cb", "response_type", ""), "alice", nil),
				}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				for _, rec := range recs {
					assertErrorPage(t, rec, http.StatusBadRequest, "invalid_request")
					assert.NotContains(t, rec.Body.String(), "evil")
				}
			},
		},
		{
			name: "nok, an invalid scope is redirected to the client",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{
					s.do(http.MethodGet, "/authorize?"+authzQuery("scope", "admin"), "alice", nil),
					s.do(http.MethodPost, "/authorize?"+authzQuery("scope", "admin"), "alice", url.Values{"decision": {"approve"}}),
				}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusFound, recs[0].Code)
				assert.Equal(t, http.StatusSeeOther, recs[1].Code, "after POST, never 307")
				for _, rec := range recs {
					q := location(t, rec)
					assert.Equal(t, "invalid_scope", q.Get("error"))
					assert.Equal(t, "xyz", q.Get("state"))
					assert.Equal(t, testIssuer, q.Get("iss"))
					assert.Empty(t, q.Get("code"))
				}
			},
		},
		{
			name: "ok, approve redirects with a code that redeems",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				page, post := approve(t, s, "alice")
				require.Equal(t, http.StatusSeeOther, post.Code, post.Body.String())
				exchange := httptest.NewRequest(http.MethodPost, testIssuer+"/token", strings.NewReader(url.Values{
					"grant_type": {"authorization_code"}, "code": {location(t, post).Get("code")},
					"redirect_uri": {authzRedirect}}.Encode()))
				exchange.Header.Set("Content-Type", formType)
				exchange.SetBasicAuth("web", "web-secret")
				token := httptest.NewRecorder()
				s.h.ServeHTTP(token, exchange)
				return []*httptest.ResponseRecorder{page, post, token}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				q := location(t, recs[1])
				assert.Equal(t, []string{"code", "iss", "state"}, slices.Sorted(maps.Keys(q)))
				assert.Equal(t, "xyz", q.Get("state"))
				assert.Equal(t, testIssuer, q.Get("iss"))
				code, err := s.model.GetAuthorizationCode(context.Background(), q.Get("code"))
				require.NoError(t, err)
				require.NotNil(t, code, "the code is stored")
				assert.Equal(t, "alice", code.UserID)
				assert.Equal(t, []string{"read"}, code.Scope)

				require.Equal(t, http.StatusOK, recs[2].Code, recs[2].Body.String())
				var resp struct {
					AccessToken string `json:"access_token"`
					Scope       string `json:"scope"`
				}
				require.NoError(t, json.Unmarshal(recs[2].Body.Bytes(), &resp))
				tok, err := s.model.GetAccessToken(context.Background(), resp.AccessToken)
				require.NoError(t, err)
				require.NotNil(t, tok, "the access token is stored")
				assert.Equal(t, "alice", tok.UserID)
				assert.Equal(t, "web", tok.ClientID)
				assert.Equal(t, "read", resp.Scope)

				consent, err := s.model.FindConsent(context.Background(), "web", "alice")
				require.NoError(t, err)
				require.NotNil(t, consent, "the approval is remembered")
				assert.Equal(t, []string{"read"}, consent.Scope)
			},
		},
		{
			name: "nok, deny redirects with access_denied",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				action, token := consentForm(t, s.do(http.MethodGet, "/authorize?"+authzQuery(), "alice", nil))
				return []*httptest.ResponseRecorder{s.do(http.MethodPost, "/authorize"+action, "alice",
					url.Values{nethttp.FieldCSRFToken: {token}, nethttp.FieldDecision: {nethttp.DecisionDeny}})}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusSeeOther, recs[0].Code)
				q := location(t, recs[0])
				assert.Equal(t, "access_denied", q.Get("error"))
				assert.Equal(t, "xyz", q.Get("state"))
				assert.Empty(t, q.Get("code"))
				consent, err := s.model.FindConsent(context.Background(), "web", "alice")
				require.NoError(t, err)
				assert.Nil(t, consent, "a denial is not remembered")
			},
		},
		{
			name: "nok, a forged CSRF token is refused",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				action, token := consentForm(t, s.do(http.MethodGet, "/authorize?"+authzQuery(), "alice", nil))
				parts := strings.Split(token, ".")
				forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 32))
				approveWith := func(user, tok string) *httptest.ResponseRecorder {
					return s.do(http.MethodPost, "/authorize"+action, user,
						url.Values{nethttp.FieldCSRFToken: {tok}, nethttp.FieldDecision: {nethttp.DecisionApprove}})
				}
				return []*httptest.ResponseRecorder{
					approveWith("alice", forged),
					approveWith("alice", ""),
					approveWith("mallory", token), // another user's form
				}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				for _, rec := range recs {
					assertErrorPage(t, rec, http.StatusForbidden, "invalid_request")
					assert.Contains(t, rec.Body.String(), "The consent form is invalid or expired.")
				}
			},
		},
		{
			name: "nok, an expired CSRF token is refused",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				action, token := consentForm(t, s.do(http.MethodGet, "/authorize?"+authzQuery(), "alice", nil))
				later := testNow.Add(11 * time.Minute) // CSRFMaxAge is 10 minutes
				s.clock.Store(&later)
				return []*httptest.ResponseRecorder{s.do(http.MethodPost, "/authorize"+action, "alice",
					url.Values{nethttp.FieldCSRFToken: {token}, nethttp.FieldDecision: {nethttp.DecisionApprove}})}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				assertErrorPage(t, recs[0], http.StatusForbidden, "invalid_request")
			},
		},
		{
			name: "nok, a replayed form is refused",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				action, token := consentForm(t, s.do(http.MethodGet, "/authorize?"+authzQuery(), "alice", nil))
				form := url.Values{nethttp.FieldCSRFToken: {token}, nethttp.FieldDecision: {nethttp.DecisionApprove}}
				return []*httptest.ResponseRecorder{
					s.do(http.MethodPost, "/authorize"+action, "alice", form),
					s.do(http.MethodPost, "/authorize"+action, "alice", form),
				}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusSeeOther, recs[0].Code)
				assert.NotEmpty(t, location(t, recs[0]).Get("code"))
				assertErrorPage(t, recs[1], http.StatusForbidden, "invalid_request")
			},
		},
		{
			name: "nok, PUT is 405 with Allow",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{s.do(http.MethodPut, "/authorize?"+authzQuery(), "alice", nil)}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				assertErrorPage(t, recs[0], http.StatusMethodNotAllowed, "invalid_request")
				assert.Equal(t, "GET, HEAD, POST", recs[0].Header().Get("Allow"))
			},
		},
		{
			name: "ok, remembered consent skips the page",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				require.NoError(t, s.model.SaveConsent(context.Background(), &oauth2server.Consent{
					ClientID: "web", UserID: "alice", Scope: []string{"read", "write"}}))
				return []*httptest.ResponseRecorder{
					s.do(http.MethodGet, "/authorize?"+authzQuery("state", "again"), "alice", nil),
					// Wider than the consent: the page again.
					s.do(http.MethodGet, "/authorize?"+authzQuery("scope", "read write admin"), "alice", nil),
				}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusFound, recs[0].Code)
				q := location(t, recs[0])
				assert.Equal(t, "again", q.Get("state"))
				code, err := s.model.GetAuthorizationCode(context.Background(), q.Get("code"))
				require.NoError(t, err)
				require.NotNil(t, code)
				assert.Equal(t, "alice", code.UserID)
				// admin is beyond the client's scopes: an error for the client.
				assert.Equal(t, "invalid_scope", location(t, recs[1]).Get("error"))
			},
		},
		{
			name: "nok, a form of another session is refused",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				action, token := consentForm(t, s.do(http.MethodGet, "/authorize?"+authzQuery(), "alice", nil))
				req := httptest.NewRequest(http.MethodPost, testIssuer+"/authorize"+action, strings.NewReader(url.Values{
					nethttp.FieldCSRFToken: {token}, nethttp.FieldDecision: {nethttp.DecisionApprove}}.Encode()))
				req.Header.Set("Content-Type", formType)
				req.Header.Set(userHeader, "alice")
				req.Header.Set(sessionHeader, "s2")
				rec := httptest.NewRecorder()
				s.h.ServeHTTP(rec, req)
				return []*httptest.ResponseRecorder{rec}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				assertErrorPage(t, recs[0], http.StatusForbidden, "invalid_request")
			},
		},
		{
			name: "nok, a UserFromRequest fault is a server_error page",
			whenSteps: func(t *testing.T, s *authzSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{s.do(http.MethodGet, "/authorize?"+authzQuery(), faultyUser, nil)}
			},
			expect: func(t *testing.T, s *authzSide, recs []*httptest.ResponseRecorder) {
				assertErrorPage(t, recs[0], http.StatusServiceUnavailable, "server_error")
				assert.NotContains(t, recs[0].Body.String(), errSessionStore.Error())
			},
		},
	}
	headers := []string{"Cache-Control", "Pragma", "Content-Type", "Allow", "X-Frame-Options",
		"Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options", "Access-Control-Allow-Origin"}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			viaEcho, viaNet := echoAuthz(t), netAuthz(t)
			echoRecs, netRecs := tc.whenSteps(t, viaEcho), tc.whenSteps(t, viaNet)
			require.Len(t, netRecs, len(echoRecs))
			for i := range echoRecs {
				e, n := echoRecs[i], netRecs[i]
				assert.Equal(t, e.Code, n.Code, "step %d status", i)
				for _, h := range headers {
					assert.Equal(t, e.Header().Values(h), n.Header().Values(h), "step %d %s", i, h)
				}
				if strings.HasPrefix(e.Header().Get("Content-Type"), "application/json") {
					assert.JSONEq(t, normalize(t, e.Body.String()), normalize(t, n.Body.String()), "step %d", i)
				} else {
					eBody, eLoc := normalizePage(t, e)
					nBody, nLoc := normalizePage(t, n)
					assert.Equal(t, eLoc, nLoc, "step %d Location", i)
					assert.Equal(t, eBody, nBody, "step %d body", i)
				}
				if !strings.HasPrefix(e.Header().Get("Content-Type"), "application/json") {
					assertPageHeaders(t, e)
					assertPageHeaders(t, n)
				}
			}
			for _, s := range []*authzSide{viaEcho, viaNet} {
				t.Run(s.name, func(t *testing.T) {
					recs := echoRecs
					if s == viaNet {
						recs = netRecs
					}
					tc.expect(t, s, recs)
				})
			}
		})
	}
}

const authTimeHeader = "X-Test-Auth-Time" // RFC 3339; default optest.Now

// opSide is one layer's OpenID Provider: every endpoint of an optest
// fixture, with the logouts its Logout hook saw.
type opSide struct {
	name string
	h    http.Handler
	f    *optest.Fixture

	logouts atomic.Int32
}

func authenticationFromRequest(r *http.Request) (oauth2server.Authentication, error) {
	at := optest.Now
	if v := r.Header.Get(authTimeHeader); v != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, v); err != nil {
			return oauth2server.Authentication{}, err
		}
	}
	return oauth2server.Authentication{Time: at, AMR: []string{"pwd"}}, nil
}

// logoutHook ends the session: it clears the cookie and counts.
func (s *opSide) logoutHook(w http.ResponseWriter) {
	s.logouts.Add(1)
	http.SetCookie(w, &http.Cookie{Name: "session", MaxAge: -1})
}

// echoOP mounts the OpenID Provider with handlers.Register.
func echoOP(t *testing.T) *opSide {
	s := &opSide{name: "Echo", f: optest.New(t, nil)}
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), s.f.Srv, handlers.RegisterConfig{
		Authorize: &handlers.AuthorizeConfig{
			UserFromRequest:    func(c echo.Context) (*oauth2server.User, error) { return userFromRequest(c.Request()) },
			SessionFromRequest: func(c echo.Context) (string, error) { return sessionFromRequest(c.Request()) },
			AuthenticationFromRequest: func(c echo.Context) (oauth2server.Authentication, error) {
				return authenticationFromRequest(c.Request())
			},
			LoginRequired: handlers.RedirectToLogin("/login"),
			Consents:      s.f.Model,
		},
		UserInfo: &handlers.UserInfoConfig{AllowOrigins: []string{spaOrigin}},
		EndSession: &handlers.EndSessionConfig{
			Logout: func(c echo.Context, _ *oauth2server.EndSessionRequest) error {
				s.logoutHook(c.Response())
				return nil
			},
			UserFromRequest:    func(c echo.Context) (*oauth2server.User, error) { return userFromRequest(c.Request()) },
			SessionFromRequest: func(c echo.Context) (string, error) { return sessionFromRequest(c.Request()) },
		},
	}))
	s.h = e
	return s
}

// netOP mounts the same endpoints, at the same paths, with package
// nethttp.
func netOP(t *testing.T) *opSide {
	s := &opSide{name: "net/http", f: optest.New(t, nil)}
	srv := s.f.Srv
	mux := http.NewServeMux()
	mux.Handle("/authorize", nethttp.AuthorizeWithConfig(nethttp.AuthorizeConfig{Server: srv,
		UserFromRequest: userFromRequest, SessionFromRequest: sessionFromRequest,
		AuthenticationFromRequest: authenticationFromRequest, LoginRequired: nethttp.RedirectToLogin("/login"),
		Consents: s.f.Model}))
	mux.Handle("/token", nethttp.Token(srv))
	mux.Handle("/revoke", nethttp.Revoke(srv))
	mux.Handle("/introspect", nethttp.Introspect(srv))
	mux.Handle("GET /jwks.json", nethttp.JWKS(srv))
	mux.Handle("/userinfo", nethttp.UserInfoWithConfig(nethttp.UserInfoConfig{Server: srv, AllowOrigins: []string{spaOrigin}}))
	mux.Handle("/end_session", nethttp.EndSessionWithConfig(nethttp.EndSessionConfig{Server: srv,
		Logout: func(w http.ResponseWriter, _ *http.Request, _ *oauth2server.EndSessionRequest) error {
			s.logoutHook(w)
			return nil
		},
		UserFromRequest: userFromRequest, SessionFromRequest: sessionFromRequest}))
	ep := oauth2server.Endpoints{Authorization: testIssuer + "/authorize", Token: testIssuer + "/token",
		Revocation: testIssuer + "/revoke", Introspection: testIssuer + "/introspect", JWKS: testIssuer + "/jwks.json",
		UserInfo: testIssuer + "/userinfo", EndSession: testIssuer + "/end_session"}
	if srv.PushedAuthorizationEnabled() {
		// Register mounts it on the Echo side.
		mux.Handle("/par", nethttp.PushedAuthorization(srv))
		ep.PushedAuthorization = testIssuer + "/par"
	}
	mux.Handle("GET /.well-known/oauth-authorization-server", nethttp.MetadataWithConfig(nethttp.MetadataConfig{Server: srv, Endpoints: ep}))
	mux.Handle("GET /.well-known/openid-configuration",
		nethttp.OpenIDConfigurationWithConfig(nethttp.OpenIDConfigurationConfig{Server: srv, Endpoints: ep}))
	s.h = mux
	return s
}

// do sends one request as user (none when "") in session "s1", with
// extra headers as name, value pairs.
func (s *opSide) do(method, target, user string, form url.Values, header ...string) *httptest.ResponseRecorder {
	q := optest.Request{Method: method, Target: testIssuer + target, Header: http.Header{sessionHeader: {"s1"}}}
	if user != "" {
		q.Header.Set(userHeader, user)
	}
	for i := 0; i+1 < len(header); i += 2 {
		q.Header.Set(header[i], header[i+1])
	}
	if form != nil {
		q.ContentType, q.Body = formType, form.Encode()
	}
	return q.Serve(s.h)
}

// oidcQuery is a valid OpenID Connect code request of client rp, with kv
// replacing (or, with "", removing) parameters.
func oidcQuery(kv ...string) url.Values {
	v := url.Values{"response_type": {"code"}, "client_id": {optest.Client}, "redirect_uri": {optest.Redirect},
		"state": {"xyz"}, "scope": {"openid profile"}, "nonce": {"n-1"},
		"code_challenge": {optest.Challenge}, "code_challenge_method": {"S256"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// The OpenID Connect endpoints answer the same through handlers.Register
// and through package nethttp: UserInfo, Discovery, the JWK Set, end
// session, and the authorization endpoint's OpenID Connect branches. Each
// case runs the same steps against both, which must agree on every
// answer's status, headers, Location and body (CSRF tokens and codes
// aside), and must each behave as expected.
func TestOpenIDParityWithEcho(t *testing.T) {
	t.Parallel()
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	logoutQuery := func(s *opSide, kv ...string) string {
		v := url.Values{"id_token_hint": {s.f.IDToken(optest.Client, optest.Alice)}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	one := func(rec *httptest.ResponseRecorder) []*httptest.ResponseRecorder {
		return []*httptest.ResponseRecorder{rec}
	}
	var testCases = []struct {
		name      string
		whenSteps func(t *testing.T, s *opSide) []*httptest.ResponseRecorder
		expect    func(t *testing.T, s *opSide, recs []*httptest.ResponseRecorder)
	}{
		{name: "ok, UserInfo GET, POST with a body, and CORS",
			whenSteps: func(t *testing.T, s *opSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{
					s.do(http.MethodGet, "/userinfo", "", nil, bearer(optest.TokOpenID)...),
					s.do(http.MethodPost, "/userinfo", "", url.Values{"access_token": {optest.TokOpenID}}),
					s.do(http.MethodGet, "/userinfo", "", nil, append(bearer(optest.TokOpenID), "Origin", spaOrigin)...),
					s.do(http.MethodOptions, "/userinfo", "", nil, "Origin", spaOrigin, "Access-Control-Request-Method", "POST"),
				}
			},
			expect: func(t *testing.T, s *opSide, recs []*httptest.ResponseRecorder) {
				for _, rec := range recs[:3] {
					assert.Equal(t, http.StatusOK, rec.Code)
					assert.JSONEq(t, optest.AliceClaims, rec.Body.String())
				}
				assert.Equal(t, spaOrigin, recs[2].Header().Get("Access-Control-Allow-Origin"))
				assert.Equal(t, http.StatusNoContent, recs[3].Code)
				assert.Equal(t, "GET, POST", recs[3].Header().Get("Access-Control-Allow-Methods"))
			}},
		{name: "nok, UserInfo errors",
			whenSteps: func(t *testing.T, s *opSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{
					s.do(http.MethodPost, "/userinfo", "", url.Values{"access_token": {optest.TokOpenID}}, bearer(optest.TokOpenID)...),
					s.do(http.MethodGet, "/userinfo", "", nil),
					s.do(http.MethodGet, "/userinfo", "", nil, bearer(optest.TokPlain)...),
					s.do(http.MethodGet, "/userinfo", "", nil, bearer("unknown")...),
					s.do(http.MethodGet, "/userinfo", "", nil, bearer(optest.TokGhost)...),
					s.do(http.MethodPut, "/userinfo", "", nil, bearer(optest.TokOpenID)...),
				}
			},
			expect: func(t *testing.T, s *opSide, recs []*httptest.ResponseRecorder) {
				for i, want := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden,
					http.StatusUnauthorized, http.StatusUnauthorized, http.StatusMethodNotAllowed} {
					assert.Equal(t, want, recs[i].Code, "step %d", i)
					assert.NotEmpty(t, recs[i].Header().Get("WWW-Authenticate"), "step %d", i)
				}
				assert.Equal(t, `Bearer realm="oauth2server"`, recs[1].Header().Get("WWW-Authenticate"))
			}},
		{name: "ok, Discovery, metadata and JWK Set",
			whenSteps: func(t *testing.T, s *opSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{
					s.do(http.MethodGet, "/.well-known/openid-configuration", "", nil),
					s.do(http.MethodGet, "/.well-known/oauth-authorization-server", "", nil),
					s.do(http.MethodGet, "/jwks.json", "", nil),
				}
			},
			expect: func(t *testing.T, s *opSide, recs []*httptest.ResponseRecorder) {
				for _, rec := range recs {
					assert.Equal(t, http.StatusOK, rec.Code)
				}
				assert.JSONEq(t, recs[0].Body.String(), recs[1].Body.String())
				assert.Contains(t, recs[0].Body.String(), `"end_session_endpoint":"https://as.example/end_session"`)
				assert.Contains(t, recs[2].Body.String(), `"kty":"RSA"`)
			}},
		{name: "ok, end session with a hint redirects",
			whenSteps: func(t *testing.T, s *opSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{
					s.do(http.MethodGet, "/end_session?"+logoutQuery(s, "post_logout_redirect_uri", optest.LogoutURI, "state", "s1"), optest.Alice, nil),
					s.do(http.MethodPost, "/end_session", optest.Alice, url.Values{"id_token_hint": {s.f.IDToken(optest.Client, optest.Alice)}}),
				}
			},
			expect: func(t *testing.T, s *opSide, recs []*httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusFound, recs[0].Code)
				assert.Equal(t, optest.LogoutURI+"?state=s1", recs[0].Header().Get("Location"))
				assert.Equal(t, http.StatusOK, recs[1].Code)
				assert.Contains(t, recs[1].Body.String(), "You are logged out.")
				assert.Equal(t, int32(2), s.logouts.Load())
			}},
		{name: "ok, end session without a hint is confirmed",
			whenSteps: func(t *testing.T, s *opSide) []*httptest.ResponseRecorder {
				page := s.do(http.MethodGet, "/end_session?client_id="+optest.Client, optest.Alice, nil)
				form := url.Values{}
				for _, m := range hiddenFieldRe.FindAllStringSubmatch(page.Body.String(), -1) {
					form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
				}
				forged := url.Values{"client_id": {optest.Client}, "csrf_token": {form.Get("csrf_token") + "x"}}
				return []*httptest.ResponseRecorder{page,
					s.do(http.MethodPost, "/end_session", optest.Alice, forged),
					s.do(http.MethodPost, "/end_session", optest.Alice, form)}
			},
			expect: func(t *testing.T, s *opSide, recs []*httptest.ResponseRecorder) {
				logoutForm(t, recs[0])
				assertErrorPage(t, recs[1], http.StatusForbidden, "invalid_request")
				assert.Equal(t, http.StatusOK, recs[2].Code)
				assert.Contains(t, recs[2].Body.String(), "You are logged out.")
				assert.Equal(t, int32(1), s.logouts.Load())
			}},
		{name: "nok, end session errors are pages",
			whenSteps: func(t *testing.T, s *opSide) []*httptest.ResponseRecorder {
				return []*httptest.ResponseRecorder{
					s.do(http.MethodGet, "/end_session?"+logoutQuery(s, "post_logout_redirect_uri", "https://evil.example/"), optest.Alice, nil),
					s.do(http.MethodGet, "/end_session?id_token_hint=forged", optest.Alice, nil),
					s.do(http.MethodPut, "/end_session", optest.Alice, nil),
					s.do(http.MethodGet, "/end_session?"+logoutQuery(s), faultyUser, nil),
				}
			},
			expect: func(t *testing.T, s *opSide, recs []*httptest.ResponseRecorder) {
				assertErrorPage(t, recs[0], http.StatusBadRequest, "invalid_request")
				assertErrorPage(t, recs[1], http.StatusBadRequest, "invalid_request")
				assertErrorPage(t, recs[2], http.StatusMethodNotAllowed, "invalid_request")
				assertErrorPage(t, recs[3], http.StatusServiceUnavailable, "server_error")
				assert.Zero(t, s.logouts.Load())
			}},
		{name: "nok, prompt=none without a user redirects login_required",
			whenSteps: func(t *testing.T, s *opSide) []*httptest.ResponseRecorder {
				return one(s.do(http.MethodGet, "/authorize?"+oidcQuery("prompt", "none").Encode(), "", nil))
			},
			expect: func(t *testing.T, s *opSide, recs []*httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusFound, recs[0].Code)
				assert.Contains(t, recs[0].Header().Get("Location"), optest.Redirect+"?error=login_required")
			}},
		{name: "ok, prompt=login with a session asks to log in again",
			whenSteps: func(t *testing.T, s *opSide) []*httptest.ResponseRecorder {
				return one(s.do(http.MethodGet, "/authorize?"+oidcQuery("prompt", "login").Encode(), optest.Alice, nil))
			},
			expect: func(t *testing.T, s *opSide, recs []*httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusFound, recs[0].Code)
				assert.Equal(t, "/login?return_to="+url.QueryEscape("/authorize?"+oidcQuery().Encode())+"&prompt=login",
					recs[0].Header().Get("Location"))
			}},
		{name: "ok, form_post and a POSTed request",
			whenSteps: func(t *testing.T, s *opSide) []*httptest.ResponseRecorder {
				page := s.do(http.MethodGet, "/authorize?"+oidcQuery("response_mode", "form_post").Encode(), optest.Alice, nil)
				action, token := consentForm(t, page)
				return []*httptest.ResponseRecorder{page,
					s.do(http.MethodPost, "/authorize"+action, optest.Alice,
						url.Values{nethttp.FieldCSRFToken: {token}, nethttp.FieldDecision: {nethttp.DecisionDeny}}),
					s.do(http.MethodPost, "/authorize", optest.Alice, oidcQuery()),
				}
			},
			expect: func(t *testing.T, s *opSide, recs []*httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusOK, recs[1].Code)
				assert.Contains(t, recs[1].Body.String(), `<form method="post" action="`+optest.Redirect+`">`)
				assert.Contains(t, recs[1].Body.String(), `name="error" value="access_denied"`)
				consentForm(t, recs[2])
			}},
	}
	headers := []string{"Cache-Control", "Pragma", "Content-Type", "WWW-Authenticate", "Allow", "Location", "Set-Cookie",
		"X-Frame-Options", "Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options", "Vary",
		"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
		"Access-Control-Expose-Headers", "Access-Control-Allow-Credentials"}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			viaEcho, viaNet := echoOP(t), netOP(t)
			echoRecs, netRecs := tc.whenSteps(t, viaEcho), tc.whenSteps(t, viaNet)
			require.Len(t, netRecs, len(echoRecs))
			for i := range echoRecs {
				e, n := echoRecs[i], netRecs[i]
				assert.Equal(t, e.Code, n.Code, "step %d status", i)
				for _, h := range headers {
					assert.Equal(t, e.Header().Values(h), n.Header().Values(h), "step %d %s", i, h)
				}
				switch ct := e.Header().Get("Content-Type"); {
				case strings.HasPrefix(ct, "application/json"), strings.HasPrefix(ct, "application/jwk-set+json"):
					assert.JSONEq(t, normalize(t, e.Body.String()), normalize(t, n.Body.String()), "step %d", i)
				default:
					eBody, eLoc := normalizePage(t, e)
					nBody, nLoc := normalizePage(t, n)
					assert.Equal(t, eLoc, nLoc, "step %d Location", i)
					assert.Equal(t, eBody, nBody, "step %d body", i)
				}
			}
			for _, s := range []*opSide{viaEcho, viaNet} {
				t.Run(s.name, func(t *testing.T) {
					recs := echoRecs
					if s == viaNet {
						recs = netRecs
					}
					tc.expect(t, s, recs)
				})
			}
		})
	}
}
