package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	oauthmw "github.com/echo-oauth2/oauth2server/middleware"
)

// flowServer is a real HTTP authorization server and resource server on
// loopback, with "alice" always logged in.
func flowServer(t *testing.T, opts oauth2server.Options) (*httptest.Server, *memorymodel.Model) {
	t.Helper()
	m := memorymodel.New()
	addClients(t, m)
	srv, err := oauth2server.New(m, opts)
	require.NoError(t, err)
	e := echo.New()
	alice := func(echo.Context) (*oauth2server.User, error) {
		return &oauth2server.User{ID: "alice", Username: "alice"}, nil
	}
	e.Match([]string{http.MethodGet, http.MethodPost}, "/authorize",
		handlers.AuthorizeWithConfig(handlers.AuthorizeConfig{Server: srv, UserFromRequest: alice}))
	e.POST("/token", handlers.Token(srv))
	api := e.Group("/api", oauthmw.Authenticate(srv))
	api.GET("/me", func(c echo.Context) error {
		uid, _ := oauthmw.UserIDFromContext(c)
		return c.String(http.StatusOK, uid)
	}, oauthmw.RequireScope("read"))
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return ts, m
}

// noRedirect is a browser that stops at every redirect, so the test can
// read the Location the server sends.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// browse plays the user agent: GET the authorization URL, read the consent
// form, approve it, and return the Location of the 303.
func browse(t *testing.T, ts *httptest.Server, authURL string) *url.URL {
	t.Helper()
	b := noRedirect()
	resp, err := b.Get(authURL)
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(page))
	action, token := pageForm(t, string(page))

	resp, err = b.PostForm(ts.URL+"/authorize"+action, url.Values{"csrf_token": {token}, "decision": {"approve"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	return loc
}

// The whole code flow with a real golang.org/x/oauth2 client: PKCE S256,
// state, iss, the exchange, a refresh, and the token used at a protected
// route.
func TestCodeFlowWithOAuth2Client(t *testing.T) {
	t.Parallel()
	ts, _ := flowServer(t, oauth2server.Options{Issuer: "http://127.0.0.1"})
	tests := []struct {
		name     string
		clientID string
		secret   string
		redirect string
		style    oauth2.AuthStyle
	}{
		{"ok, confidential client with Basic", "conf", "s3cret", confRedirect, oauth2.AuthStyleInHeader},
		{"ok, public native client on a loopback port", "pub1", "", "http://127.0.0.1:43123/cb", oauth2.AuthStyleInParams},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conf := &oauth2.Config{
				ClientID: tc.clientID, ClientSecret: tc.secret, RedirectURL: tc.redirect, Scopes: []string{"read"},
				Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize", TokenURL: ts.URL + "/token", AuthStyle: tc.style},
			}
			verifier := oauth2.GenerateVerifier()
			state := "st&te=1 ✓"
			loc := browse(t, ts, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
			assert.True(t, strings.HasPrefix(loc.String(), tc.redirect+"?"), loc.String())
			q := loc.Query()
			require.Empty(t, q.Get("error"), q.Get("error_description"))
			assert.Equal(t, state, q.Get("state"))
			assert.Equal(t, "http://127.0.0.1", q.Get("iss"))

			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, ts.Client())
			tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			require.NoError(t, err)
			assert.Equal(t, "Bearer", tok.TokenType)
			assert.NotEmpty(t, tok.AccessToken)
			assert.NotEmpty(t, tok.RefreshToken)
			assert.Equal(t, "read", tok.Extra("scope"))

			// The code is single use. R-49
			_, err = conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			var re *oauth2.RetrieveError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "invalid_grant", re.ErrorCode)

			client := conf.Client(ctx, tok)
			resp, err := client.Get(ts.URL + "/api/me")
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// The replay revoked the family, the access token included.
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, string(body))
		})
	}
	t.Run("ok, token used at a protected route", func(t *testing.T) {
		conf := &oauth2.Config{ClientID: "conf", ClientSecret: "s3cret", RedirectURL: confRedirect, Scopes: []string{"read"},
			Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize", TokenURL: ts.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader}}
		verifier := oauth2.GenerateVerifier()
		loc := browse(t, ts, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, ts.Client())
		tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		resp, err := conf.Client(ctx, tok).Get(ts.URL + "/api/me")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "alice", string(body))
	})
}

// PKCE downgrade and verifier checks, end to end.
func TestPKCEDowngrade(t *testing.T) {
	t.Parallel()
	ts, _ := flowServer(t, oauth2server.Options{})
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, ts.Client())
	conf := &oauth2.Config{ClientID: "conf", ClientSecret: "s3cret", RedirectURL: confRedirect, Scopes: []string{"read"},
		Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/authorize", TokenURL: ts.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader}}
	tests := []struct {
		name       string
		authOpts   []oauth2.AuthCodeOption
		exchange   []oauth2.AuthCodeOption
		expectDesc string
	}{
		{name: "nok, verifier for a code issued without challenge",
			exchange:   []oauth2.AuthCodeOption{oauth2.VerifierOption(testVerifier)},
			expectDesc: "A code_verifier was sent for a code issued without code_challenge."},
		{name: "nok, no verifier for a code issued with challenge",
			authOpts:   []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(testVerifier)},
			expectDesc: "The code_verifier parameter is required for this code."},
		{name: "nok, wrong verifier",
			authOpts:   []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(testVerifier)},
			exchange:   []oauth2.AuthCodeOption{oauth2.VerifierOption(oauth2.GenerateVerifier())},
			expectDesc: "The code_verifier does not match the code_challenge."},
		{name: "nok, the challenge itself as verifier (plain downgrade)",
			authOpts:   []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(testVerifier)},
			exchange:   []oauth2.AuthCodeOption{oauth2.VerifierOption(testChallenge)},
			expectDesc: "The code_verifier does not match the code_challenge."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc := browse(t, ts, conf.AuthCodeURL("s", tc.authOpts...))
			_, err := conf.Exchange(ctx, loc.Query().Get("code"), tc.exchange...)
			var re *oauth2.RetrieveError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "invalid_grant", re.ErrorCode)
			assert.Equal(t, tc.expectDesc, re.ErrorDescription)
		})
	}
	t.Run("nok, plain challenge refused at the authorization endpoint", func(t *testing.T) {
		// a client cannot ask for the weaker method.
		authURL := conf.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", testVerifier),
			oauth2.SetAuthURLParam("code_challenge_method", "plain"))
		resp, err := noRedirect().Get(authURL)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusFound, resp.StatusCode)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		assert.Equal(t, "invalid_request", loc.Query().Get("error"))
		assert.Equal(t, "The code_challenge_method is not supported; use S256.", loc.Query().Get("error_description"))
		assert.Equal(t, "s", loc.Query().Get("state"))
	})
}

// The implicit grant: off by default, legacy when on; the token goes in
// the fragment and never with a refresh token. R-38
func TestImplicitGrant(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{AllowImplicitGrant: true}, handlers.AuthorizeConfig{})
	assert.Equal(t, []string{"code", "token"}, f.srv.ResponseTypes())
	q := url.Values{"response_type": {"token"}, "client_id": {"imp"}, "state": {"a b"}, "scope": {"read"}}
	rec := f.approve(q, "alice")
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	loc, err := url.Parse(rec.Header().Get("Location"))
	require.NoError(t, err)
	assert.Empty(t, loc.RawQuery)
	assert.Equal(t, impRedirect, loc.Scheme+"://"+loc.Host+loc.Path)
	frag, err := url.ParseQuery(loc.Fragment)
	require.NoError(t, err)
	assert.Equal(t, []string{"access_token", "expires_in", "iss", "scope", "state", "token_type"}, sortedKeys(frag))
	assert.Equal(t, "Bearer", frag.Get("token_type"))
	assert.Equal(t, "3600", frag.Get("expires_in"))
	assert.Equal(t, "read", frag.Get("scope"))
	assert.Equal(t, "a b", frag.Get("state"))
	assert.Equal(t, testIssuer, frag.Get("iss"))

	tok, err := f.model.GetAccessToken(context.Background(), frag.Get("access_token"))
	require.NoError(t, err)
	require.NotNil(t, tok)
	assert.Empty(t, tok.RefreshToken)
	assert.Equal(t, "alice", tok.UserID)
	assert.Equal(t, "imp", tok.ClientID)

	t.Run("nok, errors go in the fragment", func(t *testing.T) {
		rec := f.do(http.MethodGet, "/authorize?response_type=token&client_id=imp&scope=admin&state=s", "alice", nil)
		require.Equal(t, http.StatusFound, rec.Code)
		assert.Equal(t, impRedirect+"#error=invalid_scope&error_description=The+requested+scope+exceeds+the+scope+registered+for+the+client.&iss=https%3A%2F%2Fas.example&state=s",
			rec.Header().Get("Location"))
	})
	t.Run("nok, deny goes in the fragment", func(t *testing.T) {
		action, token := f.consent(q, "alice")
		rec := f.do(http.MethodPost, "/authorize"+action, "alice", url.Values{"csrf_token": {token}, "decision": {"deny"}})
		require.Equal(t, http.StatusSeeOther, rec.Code)
		assert.Equal(t, impRedirect+"#error=access_denied&error_description=The+resource+owner+denied+the+request.&iss=https%3A%2F%2Fas.example&state=a+b",
			rec.Header().Get("Location"))
	})
	t.Run("nok, client without the implicit grant", func(t *testing.T) {
		rec := f.do(http.MethodGet, "/authorize?"+codeQuery("response_type", "token").Encode(), "alice", nil)
		assert.Equal(t, confRedirect+"#error=unauthorized_client&error_description=The+client+is+not+authorized+to+use+this+response+type.&iss=https%3A%2F%2Fas.example&state=xyz",
			rec.Header().Get("Location"))
	})
	t.Run("ok, off by default", func(t *testing.T) {
		f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
		assert.Equal(t, []string{"code"}, f.srv.ResponseTypes())
	})
}

// The token endpoint answers the code of the flow with the JSON of RFC
// 6749 §5.1 and no-store. R-63
func TestTokenAfterAuthorize(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	rec := f.approve(codeQuery("code_challenge", testChallenge, "code_challenge_method", "S256"), "alice")
	loc, _ := url.Parse(rec.Header().Get("Location"))
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {confRedirect}, "code_verifier": {testVerifier},
	}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("conf", "s3cret")
	out := httptest.NewRecorder()
	f.e.ServeHTTP(out, req)
	require.Equal(t, http.StatusOK, out.Code, out.Body.String())
	assert.Equal(t, "no-store", out.Header().Get("Cache-Control"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(out.Body.Bytes(), &body))
	assert.Equal(t, "read", body["scope"])
}
