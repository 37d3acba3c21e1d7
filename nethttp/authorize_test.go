package nethttp_test

import (
	"bytes"
	stderrors "errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// Configuration errors come from ToHandler; only AuthorizeWithConfig
// panics on them.
func TestAuthorizeConfig(t *testing.T) {
	t.Parallel()
	srv, err := oauth2server.New(memorymodel.New(), oauth2server.Options{})
	require.NoError(t, err)
	var testCases = []struct {
		name        string
		givenConfig nethttp.AuthorizeConfig
		expectError string
	}{
		{name: "ok, Server and UserFromRequest", givenConfig: nethttp.AuthorizeConfig{Server: srv, UserFromRequest: userFromRequest}},
		{name: "ok, a 32-byte CSRFKey", givenConfig: nethttp.AuthorizeConfig{Server: srv, UserFromRequest: userFromRequest,
			CSRFKey: make([]byte, 32)}},
		{name: "nok, no Server", givenConfig: nethttp.AuthorizeConfig{UserFromRequest: userFromRequest},
			expectError: "nethttp: AuthorizeConfig.Server is required"},
		{name: "nok, no UserFromRequest", givenConfig: nethttp.AuthorizeConfig{Server: srv},
			expectError: "nethttp: AuthorizeConfig.UserFromRequest is required"},
		{name: "nok, short CSRFKey", givenConfig: nethttp.AuthorizeConfig{Server: srv, UserFromRequest: userFromRequest,
			CSRFKey: []byte("short")}, expectError: "nethttp: AuthorizeConfig.CSRFKey must be at least 32 bytes"},
		{name: "nok, negative CSRFMaxAge", givenConfig: nethttp.AuthorizeConfig{Server: srv, UserFromRequest: userFromRequest,
			CSRFMaxAge: -time.Second}, expectError: "nethttp: AuthorizeConfig.CSRFMaxAge must not be negative"},
		{name: "ok, a ConsentLifetime", givenConfig: nethttp.AuthorizeConfig{Server: srv, UserFromRequest: userFromRequest,
			ConsentLifetime: time.Hour}},
		{name: "nok, negative ConsentLifetime", givenConfig: nethttp.AuthorizeConfig{Server: srv, UserFromRequest: userFromRequest,
			ConsentLifetime: -time.Second}, expectError: "nethttp: AuthorizeConfig.ConsentLifetime must not be negative"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := tc.givenConfig.ToHandler()
			if tc.expectError == "" {
				assert.NoError(t, err)
				assert.NotNil(t, h)
				assert.NotPanics(t, func() { nethttp.AuthorizeWithConfig(tc.givenConfig) })
				return
			}
			assert.EqualError(t, err, tc.expectError)
			assert.Nil(t, h)
			assert.PanicsWithError(t, tc.expectError, func() { nethttp.AuthorizeWithConfig(tc.givenConfig) })
		})
	}
}

// serveAuthz sends one request as alice to the endpoint of cfg, whose
// Server and UserFromRequest are filled in.
func serveAuthz(t *testing.T, cfg nethttp.AuthorizeConfig, method, target string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	if cfg.Server == nil {
		cfg.Server, _, _ = newAuthzServer(t)
	}
	cfg.UserFromRequest = userFromRequest
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, testIssuer+target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", formType)
	} else {
		req = httptest.NewRequest(method, testIssuer+target, nil)
	}
	req.Header.Set(userHeader, "alice")
	rec := httptest.NewRecorder()
	nethttp.AuthorizeWithConfig(cfg).ServeHTTP(rec, req)
	return rec
}

// net/http has no error handler: an error of Render or RenderError is
// logged and, when the hook wrote nothing, answered with the built-in
// server_error page; what a hook wrote stays as it is.
func TestAuthorizeHookErrors(t *testing.T) {
	t.Parallel()
	errTemplate := stderrors.New("template: no such field")
	var testCases = []struct {
		name         string
		givenConfig  nethttp.AuthorizeConfig
		whenQuery    string
		expectStatus int
		expectBody   string // exact body; "" means the server_error page
	}{
		{name: "nok, Render fails before writing", whenQuery: authzQuery(),
			givenConfig: nethttp.AuthorizeConfig{Render: func(http.ResponseWriter, *http.Request, *nethttp.ConsentPage) error {
				return errTemplate
			}},
			expectStatus: http.StatusServiceUnavailable},
		{name: "nok, Render fails after writing", whenQuery: authzQuery(),
			givenConfig: nethttp.AuthorizeConfig{Render: func(w http.ResponseWriter, _ *http.Request, _ *nethttp.ConsentPage) error {
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte("<p>half a page"))
				return errTemplate
			}},
			expectStatus: http.StatusOK, expectBody: "<p>half a page"},
		{name: "nok, RenderError fails before writing", whenQuery: authzQuery("client_id", "nobody"),
			givenConfig: nethttp.AuthorizeConfig{RenderError: func(http.ResponseWriter, *http.Request, *oautherrors.Error) error {
				return errTemplate
			}},
			expectStatus: http.StatusServiceUnavailable},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			m := memorymodel.New()
			require.NoError(t, m.AddClient(t.Context(), &oauth2server.Client{ID: "web", SecretHash: oauth2server.HashSecret("s"),
				RedirectURIs: []string{authzRedirect}, Grants: []string{oauth2server.GrantAuthorizationCode}, Scopes: []string{"read"}}))
			srv, err := oauth2server.New(m, oauth2server.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			require.NoError(t, err)
			tc.givenConfig.Server = srv

			rec := serveAuthz(t, tc.givenConfig, http.MethodGet, "/authorize?"+tc.whenQuery, nil)
			assert.Equal(t, tc.expectStatus, rec.Code)
			assert.Empty(t, rec.Header().Get("Location"))
			assert.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
			if tc.expectBody != "" {
				assert.Equal(t, tc.expectBody, rec.Body.String(), "nothing added to what the hook wrote")
			} else {
				assertErrorPage(t, rec, http.StatusServiceUnavailable, "server_error")
				assert.NotContains(t, rec.Body.String(), errTemplate.Error())
			}
			assert.Contains(t, logs.String(), errTemplate.Error(), "the fault is logged")
		})
	}
}

// A custom page gets the request, the user, the action and the token, and
// reaches the writer's other methods through http.ResponseController.
func TestAuthorizeCustomRender(t *testing.T) {
	t.Parallel()
	var got *nethttp.ConsentPage
	rec := serveAuthz(t, nethttp.AuthorizeConfig{
		Render: func(w http.ResponseWriter, _ *http.Request, page *nethttp.ConsentPage) error {
			got = page
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("custom"))
			return http.NewResponseController(w).Flush()
		},
	}, http.MethodGet, "/authorize?"+authzQuery("scope", "read write"), nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "custom", rec.Body.String())
	assert.True(t, rec.Flushed)
	assertPageHeaders(t, rec)
	assert.Equal(t, "frame-ancestors 'none'", rec.Header().Get("Content-Security-Policy"), "a custom page sets its own policy")
	require.NotNil(t, got)
	assert.Equal(t, "web", got.Request.Client.ID)
	assert.Equal(t, []string{"read", "write"}, got.Request.Scope)
	assert.Equal(t, "alice", got.User.ID)
	assert.Equal(t, "?"+authzQuery("scope", "read write"), got.Action)
	assert.Len(t, strings.Split(got.CSRFToken, "."), 3)
}

// A custom error page gets the OAuth error; the endpoint keeps its headers.
func TestAuthorizeCustomRenderError(t *testing.T) {
	t.Parallel()
	var got *oautherrors.Error
	rec := serveAuthz(t, nethttp.AuthorizeConfig{
		RenderError: func(w http.ResponseWriter, _ *http.Request, err *oautherrors.Error) error {
			got = err
			w.WriteHeader(err.Status)
			_, _ = w.Write([]byte(err.Description))
			return nil
		},
	}, http.MethodGet, "/authorize?"+authzQuery("redirect_uri", "https://evil.example/cb"), nil)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Empty(t, rec.Header().Get("Location"))
	assertPageHeaders(t, rec)
	require.NotNil(t, got)
	assert.Equal(t, "invalid_request", got.Code)
	assert.Equal(t, "The redirect_uri is not registered for this client.", rec.Body.String())
}

// RedirectToLogin keeps a query the login URL already has.
func TestRedirectToLogin(t *testing.T) {
	t.Parallel()
	target := "/authorize?" + authzQuery()
	for loginURL, expect := range map[string]string{
		"/login":         "/login?return_to=" + url.QueryEscape(target),
		"/login?lang=en": "/login?lang=en&return_to=" + url.QueryEscape(target),
	} {
		rec := httptest.NewRecorder()
		nethttp.RedirectToLogin(loginURL)(rec, httptest.NewRequest(http.MethodGet, target, nil))
		assert.Equal(t, http.StatusFound, rec.Code)
		assert.Equal(t, expect, rec.Header().Get("Location"))
		assert.Empty(t, rec.Body.String(), "no body, as Echo's Redirect")

		rec = httptest.NewRecorder()
		nethttp.RedirectToLogin(loginURL)(rec, httptest.NewRequest(http.MethodPost, target, nil))
		assert.Equal(t, http.StatusSeeOther, rec.Code, "the way back is a GET")
	}
}

// A shared CSRFKey lets another instance accept the form; without it each
// handler has a key of its own.
func TestAuthorizeSharedCSRFKey(t *testing.T) {
	t.Parallel()
	key := []byte(strings.Repeat("k", 32))
	srv, _, _ := newAuthzServer(t)
	page := serveAuthz(t, nethttp.AuthorizeConfig{Server: srv, CSRFKey: key}, http.MethodGet, "/authorize?"+authzQuery(), nil)
	action, token := consentForm(t, page)
	form := url.Values{nethttp.FieldCSRFToken: {token}, nethttp.FieldDecision: {nethttp.DecisionApprove}}

	rec := serveAuthz(t, nethttp.AuthorizeConfig{Server: srv}, http.MethodPost, "/authorize"+action, form)
	assertErrorPage(t, rec, http.StatusForbidden, "invalid_request")

	rec = serveAuthz(t, nethttp.AuthorizeConfig{Server: srv, CSRFKey: key}, http.MethodPost, "/authorize"+action, form)
	assert.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	assert.NotEmpty(t, location(t, rec).Get("code"))
}

// An informational answer (103 Early Hints) does not start the response:
// a hook failing after one still gets the server_error page. A real server,
// since httptest.ResponseRecorder takes a 1xx status for the final one.
func TestAuthorizeHookErrorAfterEarlyHints(t *testing.T) {
	t.Parallel()
	srv, _, _ := newAuthzServer(t)
	h := nethttp.AuthorizeWithConfig(nethttp.AuthorizeConfig{Server: srv, UserFromRequest: userFromRequest,
		Render: func(w http.ResponseWriter, _ *http.Request, _ *nethttp.ConsentPage) error {
			w.Header().Set("Link", "</style.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
			return stderrors.New("template: no such field")
		}})
	ts := httptest.NewServer(h)
	defer ts.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/authorize?"+authzQuery(), nil)
	require.NoError(t, err)
	req.Header.Set(userHeader, "alice")
	resp, err := ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Contains(t, string(body), "<code>server_error</code>")
}
