package nethttp_test

import (
	"bytes"
	stderrors "errors"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/internal/optest"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

var hiddenFieldRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// logoutForm returns the hidden fields of a logout confirmation page.
func logoutForm(t *testing.T, rec *httptest.ResponseRecorder) url.Values {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	v := url.Values{}
	for _, m := range hiddenFieldRe.FindAllStringSubmatch(rec.Body.String(), -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	require.Len(t, v[nethttp.FieldLogoutCSRFToken], 1, rec.Body.String())
	return v
}

func logoutRequest(method, target, user string, form url.Values) optest.Request {
	q := optest.Request{Method: method, Target: target, Header: http.Header{}}
	if user != "" {
		q.Header.Set(userHeader, user)
	}
	if form != nil {
		q.ContentType, q.Body = formType, form.Encode()
	}
	return q
}

// the end session endpoint on a ServeMux; the branches are
// those of package handlers, held to the same answers by
// TestOpenIDParityWithEcho.
func TestEndSession(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	var logouts []*oauth2server.EndSessionRequest
	h := nethttp.EndSessionWithConfig(nethttp.EndSessionConfig{
		Server: f.Srv,
		Logout: func(w http.ResponseWriter, _ *http.Request, req *oauth2server.EndSessionRequest) error {
			logouts = append(logouts, req)
			http.SetCookie(w, &http.Cookie{Name: "session", MaxAge: -1})
			return nil
		},
		UserFromRequest: userFromRequest,
	})
	hint := f.IDToken(optest.Client, optest.Alice)

	rec := logoutRequest(http.MethodGet, "/end_session?"+url.Values{"id_token_hint": {hint},
		"post_logout_redirect_uri": {optest.LogoutURI}, "state": {"s1"}}.Encode(), optest.Alice, nil).Serve(h)
	assert.Equal(t, http.StatusFound, rec.Code)
	assert.Equal(t, optest.LogoutURI+"?state=s1", rec.Header().Get("Location"))
	assertPageHeaders(t, rec)
	require.Len(t, logouts, 1)
	assert.Equal(t, optest.Alice, logouts[0].Subject)

	form := logoutForm(t, logoutRequest(http.MethodGet, "/end_session", optest.Alice, nil).Serve(h))
	assert.Len(t, logouts, 1, "no hint: confirm first")
	forged := url.Values{nethttp.FieldLogoutCSRFToken: {form.Get(nethttp.FieldLogoutCSRFToken) + "x"}}
	rec = logoutRequest(http.MethodPost, "/end_session", optest.Alice, forged).Serve(h)
	assertErrorPage(t, rec, http.StatusForbidden, "invalid_request")
	assert.Len(t, logouts, 1)
	rec = logoutRequest(http.MethodPost, "/end_session", optest.Alice, form).Serve(h)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "You are logged out.")
	assert.Equal(t, "session=; Max-Age=0", rec.Header().Get("Set-Cookie"))
	assert.Len(t, logouts, 2)

	rec = logoutRequest(http.MethodGet, "/end_session?"+url.Values{"id_token_hint": {hint},
		"post_logout_redirect_uri": {"https://evil.example/"}}.Encode(), optest.Alice, nil).Serve(h)
	assertErrorPage(t, rec, http.StatusBadRequest, "invalid_request")
	assertPageHeaders(t, rec)
	assert.Len(t, logouts, 2)
}

// net/http has no error handler: an error of a page hook is logged and,
// when the hook wrote nothing, answered with the built-in server_error
// page; a Logout error is a server_error page in both layers.
func TestEndSessionHookErrors(t *testing.T) {
	t.Parallel()
	errHook := stderrors.New("template: no such field")
	ok := func(http.ResponseWriter, *http.Request, *oauth2server.EndSessionRequest) error { return nil }
	var testCases = []struct {
		name         string
		givenConfig  nethttp.EndSessionConfig
		whenHint     bool // with a valid id_token_hint: no confirmation
		expectStatus int
		expectBody   string // exact body; "" means the server_error page
	}{
		{name: "nok, Logout fails",
			givenConfig: nethttp.EndSessionConfig{Logout: func(http.ResponseWriter, *http.Request, *oauth2server.EndSessionRequest) error {
				return errHook
			}},
			whenHint: true, expectStatus: http.StatusServiceUnavailable},
		{name: "nok, Confirm fails before writing",
			givenConfig: nethttp.EndSessionConfig{Logout: ok, Confirm: func(http.ResponseWriter, *http.Request, *nethttp.LogoutPage) error {
				return errHook
			}},
			expectStatus: http.StatusServiceUnavailable},
		{name: "nok, Confirm fails after writing",
			givenConfig: nethttp.EndSessionConfig{Logout: ok, Confirm: func(w http.ResponseWriter, _ *http.Request, _ *nethttp.LogoutPage) error {
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte("<p>half a page"))
				return errHook
			}},
			expectStatus: http.StatusOK, expectBody: "<p>half a page"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			f := optest.New(t, func(o *oauth2server.Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
			tc.givenConfig.Server = f.Srv
			form := url.Values{"client_id": {optest.Client}}
			if tc.whenHint {
				form.Set("id_token_hint", f.IDToken(optest.Client, optest.Alice))
			}
			rec := logoutRequest(http.MethodPost, "/end_session", "", form).Serve(nethttp.EndSessionWithConfig(tc.givenConfig))
			assert.Equal(t, tc.expectStatus, rec.Code)
			assert.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
			if tc.expectBody != "" {
				assert.Equal(t, tc.expectBody, rec.Body.String(), "nothing added to what the hook wrote")
			} else {
				assertErrorPage(t, rec, http.StatusServiceUnavailable, "server_error")
				assert.NotContains(t, rec.Body.String(), errHook.Error())
			}
			assert.Contains(t, logs.String(), errHook.Error(), "the fault is logged")
		})
	}
}

func TestEndSessionConfigErrors(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	plain, _, _ := newAuthzServer(t)
	logout := func(http.ResponseWriter, *http.Request, *oauth2server.EndSessionRequest) error { return nil }
	for cfg, want := range map[*nethttp.EndSessionConfig]string{
		{Logout: logout}:                "nethttp: EndSessionConfig.Server is required",
		{Server: f.Srv}:                 "nethttp: EndSessionConfig.Logout is required",
		{Server: plain, Logout: logout}: "nethttp: the end session endpoint needs an OpenID Provider (Options.OpenID)",
		{Server: f.Srv, Logout: logout, CSRFKey: []byte("x")}: "nethttp: EndSessionConfig.CSRFKey must be at least 32 bytes",
		{Server: f.Srv, Logout: logout, CSRFMaxAge: -1}:       "nethttp: EndSessionConfig.CSRFMaxAge must not be negative",
	} {
		_, err := cfg.ToHandler()
		assert.EqualError(t, err, want)
		assert.Panics(t, func() { nethttp.EndSessionWithConfig(*cfg) })
	}
}
