package handlers_test

import (
	"encoding/base64"
	stderrors "errors"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/internal/optest"
)

const sessionHeader = "X-Test-Session"

var hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// logoutFixture is an OpenID Provider with the end session endpoint at
// /end_session, behind a CORS middleware whose headers it must remove.
type logoutFixture struct {
	*optest.Fixture
	e *echo.Echo

	mu      sync.Mutex
	logouts []*oauth2server.EndSessionRequest // every Logout call
	fail    error                             // Logout's error
}

func newLogoutFixture(t *testing.T, mutate func(*handlers.EndSessionConfig)) *logoutFixture {
	t.Helper()
	f := &logoutFixture{Fixture: optest.New(t, nil), e: echo.New()}
	cfg := handlers.EndSessionConfig{
		Server: f.Srv,
		Logout: func(c echo.Context, req *oauth2server.EndSessionRequest) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.fail != nil {
				return f.fail
			}
			f.logouts = append(f.logouts, req)
			c.SetCookie(&http.Cookie{Name: "session", MaxAge: -1})
			return nil
		},
		UserFromRequest:    userFromHeader,
		SessionFromRequest: func(c echo.Context) (string, error) { return c.Request().Header.Get(sessionHeader), nil },
	}
	if mutate != nil {
		mutate(&cfg)
	}
	f.e.Use(middleware.CORSWithConfig(middleware.CORSConfig{AllowOrigins: []string{"*"}}))
	f.e.Any("/end_session", handlers.EndSessionWithConfig(cfg))
	return f
}

// do sends one request as user (none when "") in session "s1".
func (f *logoutFixture) do(method, target, user string, form url.Values) *httptest.ResponseRecorder {
	return f.doIn("s1", method, target, user, form)
}

func (f *logoutFixture) doIn(session, method, target, user string, form url.Values) *httptest.ResponseRecorder {
	q := optest.Request{Method: method, Target: target,
		Header: http.Header{"Origin": {"https://elsewhere.example"}, sessionHeader: {session}}}
	if user != "" {
		q.Header.Set(userHeader, user)
	}
	if form != nil {
		q.ContentType, q.Body = formContentType, form.Encode()
	}
	return q.Serve(f.e)
}

func (f *logoutFixture) logoutCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.logouts)
}

// confirmForm returns the fields of a confirmation page's form, after
// checking the page and its action.
func confirmForm(t *testing.T, rec *httptest.ResponseRecorder) url.Values {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "<h1>Log out</h1>")
	assert.Contains(t, rec.Body.String(), `<form method="post" action="/end_session">`)
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(rec.Body.String(), -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	require.Len(t, v[handlers.FieldLogoutCSRFToken], 1, rec.Body.String())
	return v
}

func assertLoggedOutPage(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Empty(t, rec.Header().Get("Location"))
	assert.Contains(t, rec.Body.String(), "You are logged out.")
	assert.Contains(t, rec.Header().Values("Set-Cookie"), "session=; Max-Age=0", "the Logout hook ran")
}

// every branch of the end session endpoint. A valid hint of
// the logged-in user logs out at once and redirects only to a registered
// URI; anything else is confirmed by the user first, with a form bound to
// the user, the session and the request; every error is a page.
func TestEndSession(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name string
		// when runs the steps and returns the last answer.
		when func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder
		// expect checks it; logouts is the number of Logout calls.
		expect        func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder)
		expectLogouts int
	}{
		{name: "ok, a valid hint and a registered URI redirect with state",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/end_session?"+url.Values{"id_token_hint": {hint},
					"post_logout_redirect_uri": {optest.LogoutURI}, "state": {"s 1"}}.Encode(), optest.Alice, nil)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusFound, rec.Code)
				assert.Equal(t, optest.LogoutURI+"?state=s+1", rec.Header().Get("Location"))
				assert.Empty(t, rec.Body.String())
				req := f.logouts[0]
				assert.True(t, req.HintValid)
				assert.Equal(t, optest.Alice, req.Subject)
				assert.Equal(t, optest.Client, req.Client.ID)
			},
			expectLogouts: 1},
		{name: "ok, the same as a POST is 303",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				return f.do(http.MethodPost, "/end_session", optest.Alice, url.Values{"id_token_hint": {hint},
					"client_id": {optest.Client}, "post_logout_redirect_uri": {optest.LogoutURI}})
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusSeeOther, rec.Code)
				assert.Equal(t, optest.LogoutURI, rec.Header().Get("Location"))
			},
			expectLogouts: 1},
		{name: "ok, an expired hint is still a hint",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				f.Advance(30 * 24 * time.Hour)
				return f.do(http.MethodGet, "/end_session?"+url.Values{"id_token_hint": {hint},
					"post_logout_redirect_uri": {optest.LogoutURI}}.Encode(), optest.Alice, nil)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusFound, rec.Code)
				assert.Equal(t, optest.LogoutURI, rec.Header().Get("Location"))
			},
			expectLogouts: 1},
		{name: "ok, a valid hint without a URI shows the logged-out page",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/end_session?id_token_hint="+hint, optest.Alice, nil)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertLoggedOutPage(t, rec)
			},
			expectLogouts: 1},
		{name: "ok, without a hint the user confirms first",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/end_session?client_id="+optest.Client+"&state=xyz", optest.Alice, nil)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				form := confirmForm(t, rec)
				assert.Equal(t, []string{"client_id", "csrf_token", "state"}, sortedKeys(form))
				assert.Equal(t, optest.Client, form.Get("client_id"))
				assert.Contains(t, rec.Body.String(), "Signed in as <strong>alice</strong>")
				assert.Equal(t, "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
					rec.Header().Get("Content-Security-Policy"))
				assert.Empty(t, rec.Header().Values("Set-Cookie"), "nothing ended")
			}},
		{name: "ok, the confirmed POST logs out",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				form := confirmForm(t, f.do(http.MethodGet, "/end_session?client_id="+optest.Client, optest.Alice, nil))
				return f.do(http.MethodPost, "/end_session", optest.Alice, form)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertLoggedOutPage(t, rec)
				assert.False(t, f.logouts[0].HintValid)
			},
			expectLogouts: 1},
		{name: "ok, a hint of another user is confirmed, then redirected",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				q := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {optest.LogoutURI}, "state": {"s"}}
				form := confirmForm(t, f.do(http.MethodGet, "/end_session?"+q.Encode(), optest.Bob, nil))
				assert.Equal(t, hint, form.Get("id_token_hint"), "the form posts the request again")
				require.Equal(t, 0, f.logoutCount(), "bob is not logged out by alice's hint")
				return f.do(http.MethodPost, "/end_session", optest.Bob, form)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusSeeOther, rec.Code)
				assert.Equal(t, optest.LogoutURI+"?state=s", rec.Header().Get("Location"))
			},
			expectLogouts: 1},
		{name: "ok, nobody logged in: nothing to confirm",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/end_session", "", nil)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertLoggedOutPage(t, rec)
			},
			expectLogouts: 1},
		{name: "nok, HEAD never logs out",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				return f.do(http.MethodHead, "/end_session?id_token_hint="+hint, optest.Alice, nil)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusOK, rec.Code)
				assert.Empty(t, rec.Header().Get("Location"))
			}},
		{name: "nok, a forged CSRF token is refused",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				form := confirmForm(t, f.do(http.MethodGet, "/end_session?client_id="+optest.Client, optest.Alice, nil))
				parts := strings.Split(form.Get("csrf_token"), ".")
				form.Set("csrf_token", parts[0]+"."+parts[1]+"."+base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
				return f.do(http.MethodPost, "/end_session", optest.Alice, form)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertShown(t, rec, http.StatusForbidden, "invalid_request")
				assert.Contains(t, rec.Body.String(), "The logout form is invalid or expired.")
			}},
		{name: "nok, a form posted with other parameters is refused",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				form := confirmForm(t, f.do(http.MethodGet, "/end_session?client_id="+optest.Client, optest.Alice, nil))
				form.Set("client_id", optest.OtherClient)
				return f.do(http.MethodPost, "/end_session", optest.Alice, form)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertShown(t, rec, http.StatusForbidden, "invalid_request")
			}},
		{name: "nok, another user's form is refused",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				form := confirmForm(t, f.do(http.MethodGet, "/end_session", optest.Alice, nil))
				return f.do(http.MethodPost, "/end_session", optest.Bob, form)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertShown(t, rec, http.StatusForbidden, "invalid_request")
			}},
		{name: "nok, another session's form is refused",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				form := confirmForm(t, f.do(http.MethodGet, "/end_session", optest.Alice, nil))
				return f.doIn("s2", http.MethodPost, "/end_session", optest.Alice, form)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertShown(t, rec, http.StatusForbidden, "invalid_request")
			}},
		{name: "nok, an expired form is refused",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				form := confirmForm(t, f.do(http.MethodGet, "/end_session", optest.Alice, nil))
				f.Advance(handlers.DefaultCSRFMaxAge + 2*time.Minute)
				return f.do(http.MethodPost, "/end_session", optest.Alice, form)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertShown(t, rec, http.StatusForbidden, "invalid_request")
			}},
		{name: "nok, a POST without the CSRF token asks again",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				return f.do(http.MethodPost, "/end_session", optest.Alice, url.Values{"client_id": {optest.Client}})
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				confirmForm(t, rec)
			}},
		{name: "nok, an unregistered URI is shown, not redirected",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/end_session?"+url.Values{"id_token_hint": {hint},
					"post_logout_redirect_uri": {"https://evil.example/"}}.Encode(), optest.Alice, nil)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertShown(t, rec, http.StatusBadRequest, "invalid_request")
				assert.Contains(t, rec.Body.String(), "The post_logout_redirect_uri is not registered for the client.")
				assert.NotContains(t, rec.Body.String(), "evil")
			}},
		{name: "nok, a URI without a hint is shown, not redirected",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/end_session?"+url.Values{"client_id": {optest.Client},
					"post_logout_redirect_uri": {optest.LogoutURI}}.Encode(), optest.Alice, nil)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertShown(t, rec, http.StatusBadRequest, "invalid_request")
				assert.Contains(t, rec.Body.String(), "A post_logout_redirect_uri needs a valid id_token_hint.")
			}},
		{name: "nok, a forged hint",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/end_session?id_token_hint="+hint[:len(hint)-4]+"AAAA", optest.Alice, nil)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertShown(t, rec, http.StatusBadRequest, "invalid_request")
			}},
		{name: "nok, a client_id that is not the hint's audience",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/end_session?id_token_hint="+hint+"&client_id="+optest.OtherClient, optest.Alice, nil)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertShown(t, rec, http.StatusBadRequest, "invalid_request")
				assert.Contains(t, rec.Body.String(), "The client_id is not the audience of the id_token_hint.")
			}},
		{name: "nok, PUT is 405 with Allow",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				return f.do(http.MethodPut, "/end_session?id_token_hint="+hint, optest.Alice, nil)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertShown(t, rec, http.StatusMethodNotAllowed, "invalid_request")
				assert.Equal(t, "GET, HEAD, POST", rec.Header().Get("Allow"))
			}},
		{name: "nok, a Logout fault is a server_error page",
			when: func(t *testing.T, f *logoutFixture, hint string) *httptest.ResponseRecorder {
				f.fail = stderrors.New("session store is down")
				return f.do(http.MethodGet, "/end_session?"+url.Values{"id_token_hint": {hint},
					"post_logout_redirect_uri": {optest.LogoutURI}}.Encode(), optest.Alice, nil)
			},
			expect: func(t *testing.T, f *logoutFixture, rec *httptest.ResponseRecorder) {
				assertShown(t, rec, http.StatusServiceUnavailable, "server_error")
				assert.NotContains(t, rec.Body.String(), "session store")
			}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newLogoutFixture(t, nil)
			hint := f.IDToken(optest.Client, optest.Alice)
			rec := tc.when(t, f, hint)
			assertPageHeaders(t, rec)
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			tc.expect(t, f, rec)
			assert.Equal(t, tc.expectLogouts, f.logoutCount(), "Logout calls")
		})
	}
}

// The page hooks replace the built-in pages; without UserFromRequest a
// valid hint is trusted.
func TestEndSessionHooks(t *testing.T) {
	t.Parallel()
	f := newLogoutFixture(t, func(cfg *handlers.EndSessionConfig) {
		cfg.UserFromRequest = nil
		cfg.Confirm = func(c echo.Context, page *handlers.LogoutPage) error {
			return c.String(http.StatusOK, "confirm "+page.Action+" "+page.Fields[len(page.Fields)-1].Name)
		}
		cfg.LoggedOut = func(c echo.Context, req *oauth2server.EndSessionRequest) error {
			return c.String(http.StatusOK, "bye "+req.Subject)
		}
		cfg.RenderError = func(c echo.Context, err *oerrors.Error) error {
			return c.String(err.Status, "oops "+err.Code)
		}
	})
	hint := f.IDToken(optest.Client, optest.Alice)

	rec := f.do(http.MethodGet, "/end_session", "", nil)
	assert.Equal(t, "confirm /end_session csrf_token", rec.Body.String(), "no hint: confirm, user or not")
	rec = f.do(http.MethodGet, "/end_session?id_token_hint="+hint, optest.Bob, nil)
	assert.Equal(t, "bye alice", rec.Body.String(), "the hint decides without UserFromRequest")
	rec = f.do(http.MethodGet, "/end_session?id_token_hint=x", "", nil)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, "oops invalid_request", rec.Body.String())
	assertPageHeaders(t, rec)
}

func TestEndSessionConfig(t *testing.T) {
	t.Parallel()
	op := optest.New(t, nil)
	plain := newServer(t, oauth2server.Options{Issuer: testIssuer})
	logout := func(echo.Context, *oauth2server.EndSessionRequest) error { return nil }
	var testCases = []struct {
		name        string
		givenConfig handlers.EndSessionConfig
		expectErr   string
	}{
		{name: "ok", givenConfig: handlers.EndSessionConfig{Server: op.Srv, Logout: logout,
			CSRFKey: make([]byte, 32), CSRFMaxAge: time.Minute}},
		{name: "nok, no Server", givenConfig: handlers.EndSessionConfig{Logout: logout},
			expectErr: "handlers: EndSessionConfig.Server is required"},
		{name: "nok, no Logout", givenConfig: handlers.EndSessionConfig{Server: op.Srv},
			expectErr: "handlers: EndSessionConfig.Logout is required"},
		{name: "nok, not an OpenID Provider", givenConfig: handlers.EndSessionConfig{Server: plain, Logout: logout},
			expectErr: "handlers: the end session endpoint needs an OpenID Provider (Options.OpenID)"},
		{name: "nok, short CSRFKey", givenConfig: handlers.EndSessionConfig{Server: op.Srv, Logout: logout, CSRFKey: make([]byte, 31)},
			expectErr: "handlers: EndSessionConfig.CSRFKey must be at least 32 bytes"},
		{name: "nok, negative CSRFMaxAge", givenConfig: handlers.EndSessionConfig{Server: op.Srv, Logout: logout, CSRFMaxAge: -1},
			expectErr: "handlers: EndSessionConfig.CSRFMaxAge must not be negative"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := tc.givenConfig.ToHandler()
			if tc.expectErr != "" {
				assert.EqualError(t, err, tc.expectErr)
				assert.Panics(t, func() { handlers.EndSessionWithConfig(tc.givenConfig) })
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, h)
		})
	}
}
