package handlers_test

import (
	"context"
	"encoding/json"
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
	"github.com/echo-oauth2/oauth2server/internal/optest"
)

const authTimeHeader = "X-Test-Auth-Time" // RFC 3339; default optest.Now

// opAuthzFixture is an OpenID Provider's authorization endpoint at
// /authorize with RedirectToLogin("/login") and remembered consent, and
// at /authorize-hook with a LoginRequired hook that records the
// LoginPrompt.
type opAuthzFixture struct {
	*optest.Fixture
	e      *echo.Echo
	prompt *oauth2server.LoginPrompt // what the hook saw
	url    string                    // and the request's URL there
}

func newOPAuthzFixture(t *testing.T) *opAuthzFixture {
	t.Helper()
	f := &opAuthzFixture{Fixture: optest.New(t, nil), e: echo.New()}
	cfg := handlers.AuthorizeConfig{Server: f.Srv, UserFromRequest: userFromHeader,
		AuthenticationFromRequest: func(c echo.Context) (oauth2server.Authentication, error) {
			at := optest.Now
			if v := c.Request().Header.Get(authTimeHeader); v != "" {
				var err error
				if at, err = time.Parse(time.RFC3339, v); err != nil {
					return oauth2server.Authentication{}, err
				}
			}
			return oauth2server.Authentication{Time: at, ACR: "urn:pwd", AMR: []string{"pwd"}}, nil
		},
		LoginRequired: handlers.RedirectToLogin("/login"),
		Consents:      f.Model,
	}
	f.e.Any("/authorize", handlers.AuthorizeWithConfig(cfg))
	cfg.LoginRequired = func(c echo.Context) error {
		p, ok := oauth2server.LoginPromptFromContext(c.Request().Context())
		require.True(t, ok, "the hook's request carries the LoginPrompt")
		f.prompt, f.url = p, c.Request().URL.RequestURI()
		return c.String(http.StatusUnauthorized, "log in")
	}
	f.e.Any("/authorize-hook", handlers.AuthorizeWithConfig(cfg))
	f.e.POST("/token", handlers.Token(f.Srv))
	return f
}

func (f *opAuthzFixture) do(method, target, user string, form url.Values, header ...string) *httptest.ResponseRecorder {
	q := optest.Request{Method: method, Target: target, Header: http.Header{}}
	if user != "" {
		q.Header.Set(userHeader, user)
	}
	for i := 0; i+1 < len(header); i += 2 {
		q.Header.Set(header[i], header[i+1])
	}
	if form != nil {
		q.ContentType, q.Body = formContentType, form.Encode()
	}
	return q.Serve(f.e)
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

// redirectQuery returns the query of a redirect to the relying party.
func redirectQuery(t *testing.T, rec *httptest.ResponseRecorder) url.Values {
	t.Helper()
	loc, err := url.Parse(rec.Header().Get("Location"))
	require.NoError(t, err)
	require.Equal(t, optest.Redirect, loc.Scheme+"://"+loc.Host+loc.Path, "Location")
	return loc.Query()
}

// the OpenID Connect branches of the
// authorization endpoint, through the Echo handler.
func TestAuthorizeOpenID(t *testing.T) {
	t.Parallel()
	old := optest.Now.Add(-time.Hour).Format(time.RFC3339)
	var testCases = []struct {
		name   string
		when   func(t *testing.T, f *opAuthzFixture) *httptest.ResponseRecorder
		expect func(t *testing.T, f *opAuthzFixture, rec *httptest.ResponseRecorder)
	}{
		{name: "nok, prompt=none without a user redirects login_required",
			when: func(t *testing.T, f *opAuthzFixture) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/authorize?"+oidcQuery("prompt", "none").Encode(), "", nil)
			},
			expect: func(t *testing.T, f *opAuthzFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusFound, rec.Code)
				q := redirectQuery(t, rec)
				assert.Equal(t, "login_required", q.Get("error"))
				assert.Equal(t, "xyz", q.Get("state"))
				assert.Equal(t, testIssuer, q.Get("iss"))
			}},
		{name: "nok, prompt=none with a user but no consent redirects consent_required",
			when: func(t *testing.T, f *opAuthzFixture) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/authorize?"+oidcQuery("prompt", "none").Encode(), optest.Alice, nil)
			},
			expect: func(t *testing.T, f *opAuthzFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusFound, rec.Code)
				assert.Equal(t, "consent_required", redirectQuery(t, rec).Get("error"))
			}},
		{name: "ok, prompt=login with a session asks to log in again",
			when: func(t *testing.T, f *opAuthzFixture) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/authorize?"+oidcQuery("prompt", "login", "login_hint", "alice@example.com").Encode(), optest.Alice, nil)
			},
			expect: func(t *testing.T, f *opAuthzFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusFound, rec.Code)
				loc, err := url.Parse(rec.Header().Get("Location"))
				require.NoError(t, err)
				assert.Equal(t, "/login", loc.Path)
				assert.Equal(t, "login", loc.Query().Get("prompt"), "the login page must ask for credentials")
				assert.Equal(t, "alice@example.com", loc.Query().Get("login_hint"))
				back, err := url.Parse(loc.Query().Get("return_to"))
				require.NoError(t, err)
				assert.Equal(t, "/authorize", back.Path)
				assert.Empty(t, back.Query().Get("prompt"), "coming back must not ask again")
				assert.Equal(t, "n-1", back.Query().Get("nonce"))
			}},
		{name: "ok, max_age exceeded asks to log in again",
			when: func(t *testing.T, f *opAuthzFixture) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/authorize-hook?"+oidcQuery("max_age", "600").Encode(), optest.Alice, nil,
					authTimeHeader, old)
			},
			expect: func(t *testing.T, f *opAuthzFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusUnauthorized, rec.Code)
				require.NotNil(t, f.prompt)
				assert.True(t, f.prompt.Reauthenticate)
				require.NotNil(t, f.prompt.Request)
				assert.Equal(t, optest.Client, f.prompt.Request.Client.ID)
				back, err := url.Parse(f.prompt.ReturnTo)
				require.NoError(t, err)
				assert.Equal(t, "/authorize-hook", back.Path)
				assert.Equal(t, "600", back.Query().Get("max_age"), "a fresh login satisfies a positive max_age")
				assert.Equal(t, f.prompt.ReturnTo, f.url, "the hook's request URL is the way back")
			}},
		{name: "ok, max_age within the login shows the consent page",
			when: func(t *testing.T, f *opAuthzFixture) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/authorize-hook?"+oidcQuery("max_age", "7200").Encode(), optest.Alice, nil,
					authTimeHeader, old)
			},
			expect: func(t *testing.T, f *opAuthzFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusOK, rec.Code)
				pageForm(t, rec.Body.String())
				assert.Nil(t, f.prompt)
			}},
		{name: "ok, without a user the hook gets the prompt with the hint",
			when: func(t *testing.T, f *opAuthzFixture) *httptest.ResponseRecorder {
				return f.do(http.MethodGet, "/authorize-hook?"+oidcQuery("login_hint", "bob").Encode(), "", nil)
			},
			expect: func(t *testing.T, f *opAuthzFixture, rec *httptest.ResponseRecorder) {
				require.NotNil(t, f.prompt)
				assert.False(t, f.prompt.Reauthenticate)
				assert.Equal(t, "bob", f.prompt.LoginHint)
			}},
		{name: "nok, an id_token_hint of another user redirects login_required",
			when: func(t *testing.T, f *opAuthzFixture) *httptest.ResponseRecorder {
				hint := f.IDToken(optest.Client, optest.Bob)
				return f.do(http.MethodGet, "/authorize?"+oidcQuery("id_token_hint", hint).Encode(), optest.Alice, nil)
			},
			expect: func(t *testing.T, f *opAuthzFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusFound, rec.Code)
				assert.Equal(t, "login_required", redirectQuery(t, rec).Get("error"))
			}},
		{name: "ok, remembered consent skips the page",
			when: func(t *testing.T, f *opAuthzFixture) *httptest.ResponseRecorder {
				require.NoError(t, f.Model.SaveConsent(context.Background(), &oauth2server.Consent{
					ClientID: optest.Client, UserID: optest.Alice, Scope: []string{"openid", "profile"}}))
				return f.do(http.MethodGet, "/authorize?"+oidcQuery().Encode(), optest.Alice, nil)
			},
			expect: func(t *testing.T, f *opAuthzFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusFound, rec.Code)
				assert.NotEmpty(t, redirectQuery(t, rec).Get("code"))
			}},
		{name: "ok, prompt=consent asks despite remembered consent",
			when: func(t *testing.T, f *opAuthzFixture) *httptest.ResponseRecorder {
				require.NoError(t, f.Model.SaveConsent(context.Background(), &oauth2server.Consent{
					ClientID: optest.Client, UserID: optest.Alice, Scope: []string{"openid", "profile"}}))
				return f.do(http.MethodGet, "/authorize?"+oidcQuery("prompt", "consent").Encode(), optest.Alice, nil)
			},
			expect: func(t *testing.T, f *opAuthzFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusOK, rec.Code)
				action, _ := pageForm(t, rec.Body.String())
				assert.Contains(t, action, "prompt=consent")
			}},
		{name: "ok, form_post answers with a self-posting page",
			when: func(t *testing.T, f *opAuthzFixture) *httptest.ResponseRecorder {
				action, token := pageForm(t, f.do(http.MethodGet, "/authorize?"+oidcQuery("response_mode", "form_post").Encode(),
					optest.Alice, nil).Body.String())
				return f.do(http.MethodPost, "/authorize"+action, optest.Alice,
					url.Values{handlers.FieldCSRFToken: {token}, handlers.FieldDecision: {handlers.DecisionApprove}})
			},
			expect: func(t *testing.T, f *opAuthzFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusOK, rec.Code)
				assert.Empty(t, rec.Header().Get("Location"))
				body := rec.Body.String()
				assert.Contains(t, body, `<form method="post" action="`+optest.Redirect+`">`)
				assert.Contains(t, body, `<input type="hidden" name="state" value="xyz">`)
				assert.Contains(t, body, `<input type="hidden" name="iss" value="`+testIssuer+`">`)
				assert.Regexp(t, `<input type="hidden" name="code" value="[^"]+">`, body)
				assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "form-action https://rp.example")
				assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			}},
		{name: "ok, a POSTed authorization request shows the consent page",
			when: func(t *testing.T, f *opAuthzFixture) *httptest.ResponseRecorder {
				return f.do(http.MethodPost, "/authorize", optest.Alice, oidcQuery())
			},
			expect: func(t *testing.T, f *opAuthzFixture, rec *httptest.ResponseRecorder) {
				assert.Equal(t, http.StatusOK, rec.Code)
				action, _ := pageForm(t, rec.Body.String())
				assert.True(t, strings.HasPrefix(action, "?"), "the form posts the validated query")
				assert.Contains(t, action, "nonce=n-1")
			}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newOPAuthzFixture(t)
			rec := tc.when(t, f)
			assertPageHeaders(t, rec)
			tc.expect(t, f, rec)
		})
	}
}

// an approved request's code yields an ID token with the
// nonce, auth_time and amr of the login.
func TestAuthorizeOpenIDCodeFlow(t *testing.T) {
	t.Parallel()
	f := newOPAuthzFixture(t)
	authTime := optest.Now.Add(-5 * time.Minute)
	action, token := pageForm(t, f.do(http.MethodGet, "/authorize?"+oidcQuery("max_age", "600").Encode(), optest.Alice, nil,
		authTimeHeader, authTime.Format(time.RFC3339)).Body.String())
	rec := f.do(http.MethodPost, "/authorize"+action, optest.Alice,
		url.Values{handlers.FieldCSRFToken: {token}, handlers.FieldDecision: {handlers.DecisionApprove}},
		authTimeHeader, authTime.Format(time.RFC3339))
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	code := redirectQuery(t, rec).Get("code")

	rec = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {optest.Redirect}, "code_verifier": {optest.Verifier}}.Encode()))
	req.Header.Set("Content-Type", formContentType)
	req.SetBasicAuth(optest.Client, optest.Secret)
	f.e.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var resp map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	claims := jwtClaims(t, resp["id_token"].(string))
	assert.Equal(t, "n-1", claims["nonce"])
	assert.Equal(t, float64(authTime.Unix()), claims["auth_time"])
	assert.Equal(t, []any{"pwd"}, claims["amr"])
	assert.Equal(t, "urn:pwd", claims["acr"])
	assert.Equal(t, optest.Alice, claims["sub"])
}

// With OpenID Connect, the authorization endpoint needs
// AuthenticationFromRequest: auth_time must come from the login.
func TestAuthorizeOpenIDConfig(t *testing.T) {
	t.Parallel()
	f := optest.New(t, nil)
	cfg := handlers.AuthorizeConfig{Server: f.Srv, UserFromRequest: userFromHeader}
	_, err := cfg.ToHandler()
	assert.EqualError(t, err, "handlers: AuthorizeConfig.AuthenticationFromRequest is required for OpenID Connect (auth_time)")
	assert.Panics(t, func() { handlers.AuthorizeWithConfig(cfg) })
}
