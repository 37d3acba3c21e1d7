package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/echo-oauth2/oauth2server"
)

// pages are not frameable, load nothing from elsewhere, leak no
// referrer and are not cached.
func TestPageSecurityHeaders(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	for _, path := range []string{"/", loginPath, callbackPath + "?code=x&state=y"} {
		t.Run(path, func(t *testing.T) {
			resp, _ := get(t, browser(t), ts.base+path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			h := resp.Header
			assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
			assert.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
			assert.Contains(t, h.Get("Content-Security-Policy"), "default-src 'self'")
			assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
			assert.Equal(t, "no-store", h.Get("Cache-Control"))
			assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
			// no CORS on the browser-facing endpoints.
			assert.Empty(t, h.Get("Access-Control-Allow-Origin"))
		})
	}
}

// the login form needs the CSRF token of the browser that loaded it.
func TestLoginCSRF(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	other := browser(t)
	_, otherBody := get(t, other, ts.base+loginPath)

	var testCases = []struct {
		name       string
		whenToken  func(own string) string
		expectCode int
	}{
		{name: "ok, own token", whenToken: func(own string) string { return own }, expectCode: http.StatusSeeOther},
		{name: "nok, no token", whenToken: func(string) string { return "" }, expectCode: http.StatusForbidden},
		{name: "nok, token of another browser", whenToken: func(string) string { return csrfToken(t, otherBody) }, expectCode: http.StatusForbidden},
		{name: "nok, forged token", whenToken: func(own string) string {
			// Change the last character, whatever it is.
			last := "A"
			if strings.HasSuffix(own, "A") {
				last = "B"
			}
			return own[:len(own)-1] + last
		}, expectCode: http.StatusForbidden},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			c := browser(t)
			_, body := get(t, c, ts.base+loginPath)
			resp, _ := post(t, c, ts.base+loginPath, url.Values{
				"csrf_token": {tc.whenToken(csrfToken(t, body))}, "username": {demoUsername}, "password": {demoPassword},
			})
			assert.Equal(t, tc.expectCode, resp.StatusCode)
		})
	}

	t.Run("nok, token in the query instead of the body", func(t *testing.T) {
		c := browser(t)
		_, body := get(t, c, ts.base+loginPath)
		resp, _ := post(t, c, ts.base+loginPath+"?csrf_token="+url.QueryEscape(csrfToken(t, body)), url.Values{
			"username": {demoUsername}, "password": {demoPassword},
		})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	var testCases = []struct {
		name           string
		whenUser       string
		whenPassword   string
		whenReturnTo   string
		expectCode     int
		expectLocation string
	}{
		{name: "ok, back to a local page", whenUser: demoUsername, whenPassword: demoPassword,
			whenReturnTo: "/oauth/authorize?client_id=x", expectCode: http.StatusSeeOther, expectLocation: "/oauth/authorize?client_id=x"},
		{name: "ok, no return_to goes home", whenUser: demoUsername, whenPassword: demoPassword,
			expectCode: http.StatusSeeOther, expectLocation: "/"},
		{name: "ok, absolute return_to is not followed", whenUser: demoUsername, whenPassword: demoPassword,
			whenReturnTo: "https://evil.example/", expectCode: http.StatusSeeOther, expectLocation: "/"},
		{name: "nok, wrong password", whenUser: demoUsername, whenPassword: "wrong", expectCode: http.StatusUnauthorized},
		{name: "nok, unknown user", whenUser: "nobody", whenPassword: demoPassword, expectCode: http.StatusUnauthorized},
		{name: "nok, no username", whenPassword: demoPassword, expectCode: http.StatusUnauthorized},
		{name: "nok, no password", whenUser: demoUsername, expectCode: http.StatusUnauthorized},
		{name: "nok, password longer than bcrypt takes", whenUser: demoUsername, whenPassword: demoPassword + strings.Repeat("x", 80), expectCode: http.StatusUnauthorized},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			c := browser(t)
			_, body := get(t, c, ts.base+loginPath)
			form := url.Values{"csrf_token": {csrfToken(t, body)}}
			if tc.whenUser != "" {
				form.Set("username", tc.whenUser)
			}
			if tc.whenPassword != "" {
				form.Set("password", tc.whenPassword)
			}
			if tc.whenReturnTo != "" {
				form.Set("return_to", tc.whenReturnTo)
			}
			resp, body := post(t, c, ts.base+loginPath, form)
			assert.Equal(t, tc.expectCode, resp.StatusCode)
			assert.Equal(t, tc.expectLocation, resp.Header.Get("Location"))
			if tc.expectCode == http.StatusUnauthorized {
				assert.Contains(t, body, "Invalid username or password.")
				if tc.whenPassword != "" {
					assert.NotContains(t, body, tc.whenPassword, "the password is never echoed")
				}
			}
		})
	}
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		given  string
		expect string
	}{
		{given: "/oauth/authorize?a=b", expect: "/oauth/authorize?a=b"},
		{given: "/", expect: "/"},
		{given: "", expect: "/"},
		{given: "//evil.example/x", expect: "/"},
		{given: "/\\evil.example", expect: "/"},
		{given: "https://evil.example/", expect: "/"},
		{given: "javascript:alert(1)", expect: "/"},
		{given: "relative/path", expect: "/"},
	}
	for _, tc := range testCases {
		t.Run(tc.given, func(t *testing.T) {
			assert.Equal(t, tc.expect, localPath(tc.given))
		})
	}
}

func TestCallbackPageEscapes(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	// a hostile state cannot inject markup into the page.
	_, body := get(t, browser(t), ts.base+callbackPath+"?code=abc&state="+url.QueryEscape(`"><script>alert(1)</script>`))
	assert.NotContains(t, body, "<script>alert(1)</script>")
	assert.Contains(t, body, "&lt;script&gt;")
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	cc := clientcredentials.Config{
		ClientID:     demoConfidentialClient,
		ClientSecret: demoClientSecret,
		TokenURL:     ts.base + tokenPath,
		Scopes:       []string{"read"},
	}
	tok, err := cc.Token(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Empty(t, tok.RefreshToken, "R-65: no refresh token for client_credentials")
	assert.Equal(t, "read", tok.Extra("scope"))

	cc.ClientSecret = "wrong"
	_, err = cc.Token(context.Background())
	assert.ErrorContains(t, err, "invalid_client")
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	fc, err := loadConfigFile("config.example.json")
	require.NoError(t, err)
	ts := startApp(t, appConfig{Data: fc, Issuer: "http://127.0.0.1:9096"})
	assert.Nil(t, ts.app.demo, "no demo request with a config file")

	ctx := context.Background()
	c, err := ts.app.model.GetClient(ctx, "demo-service")
	require.NoError(t, err)
	require.NotNil(t, c)
	assert.True(t, strings.HasPrefix(c.SecretHash, "sha256:"), "secrets are hashed when loaded")
	assert.True(t, oauth2server.VerifySecret(c.SecretHash, "change-me-to-a-long-random-secret"))
	pub, err := ts.app.model.GetClient(ctx, "demo-app")
	require.NoError(t, err)
	assert.True(t, pub.IsPublic())

	u, err := ts.app.model.GetUser(ctx, "demo", "change-me")
	require.NoError(t, err)
	require.NotNil(t, u, "passwords are hashed with bcrypt and verify")
	assert.Equal(t, "demo", u.ID)
}

// The users of a -config file get their claims, and the clients their
// OpenID Connect scopes and post-logout redirect URIs.
func TestConfigFileClaims(t *testing.T) {
	t.Parallel()
	fc, err := loadConfigFile("config.example.json")
	require.NoError(t, err)
	ts := startApp(t, appConfig{Data: fc, Issuer: "http://127.0.0.1:9096"})
	claims, err := ts.app.model.GetUserClaims(context.Background(), "demo")
	require.NoError(t, err)
	assert.Equal(t, "Demo User", claims["name"])
	assert.Equal(t, true, claims["email_verified"])
	c, err := ts.app.model.GetClient(context.Background(), "demo-app")
	require.NoError(t, err)
	assert.Contains(t, c.Scopes, "openid")
	assert.Equal(t, []string{"http://127.0.0.1:9096/"}, c.PostLogoutRedirectURIs)
}

func TestConfigFileErrors(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name        string
		givenJSON   string
		expectError string
	}{
		{name: "nok, unknown field", givenJSON: `{"clients":[{"id":"a","secret":"s","grants":["client_credentials"],"scope":["x"]}]}`, expectError: "unknown field"},
		{name: "nok, client without id", givenJSON: `{"clients":[{"secret":"s","grants":["client_credentials"]}]}`, expectError: "id is required"},
		{name: "nok, public client with secret", givenJSON: `{"clients":[{"id":"a","public":true,"secret":"s","grants":["authorization_code"]}]}`, expectError: "public client has no secret"},
		{name: "nok, confidential client without secret", givenJSON: `{"clients":[{"id":"a","grants":["client_credentials"]}]}`, expectError: "needs a secret"},
		{name: "nok, public client may not introspect", givenJSON: `{"clients":[{"id":"a","public":true,"introspect":true,"grants":["authorization_code"]}]}`, expectError: "only a confidential client"},
		{name: "nok, no grants", givenJSON: `{"clients":[{"id":"a","secret":"s"}]}`, expectError: "grants is empty"},
		{name: "nok, user without password", givenJSON: `{"users":[{"username":"u"}]}`, expectError: "username and password are required"},
		{name: "nok, not JSON", givenJSON: `clients:`, expectError: "invalid character"},
		{name: "nok, short session key", givenJSON: `{"session_key":"c2hvcnQ="}`, expectError: "session_key: shorter than 32 bytes"},
		// A second entry with the same id or username would be dropped as
		// "already stored" when seeding: refuse it while loading.
		{name: "nok, duplicate client id", givenJSON: `{"clients":[{"id":"a","secret":"s","grants":["client_credentials"]},{"id":"a","secret":"t","grants":["client_credentials"]}]}`, expectError: `client "a": duplicate id`},
		{name: "nok, duplicate username", givenJSON: `{"users":[{"username":"u","password":"p"},{"username":"u","password":"q"}]}`, expectError: `user "u": duplicate username`},
		{name: "nok, duplicate user id", givenJSON: `{"users":[{"username":"u","password":"p"},{"id":"u","username":"v","password":"q"}]}`, expectError: `user "v": duplicate id`},
		{name: "nok, misspelt grant", givenJSON: `{"clients":[{"id":"a","secret":"s","grants":["authorisation_code"],"redirect_uris":["https://c.example/cb"]}]}`, expectError: `client "a": grant "authorisation_code" is not served`},
		{name: "nok, password grant is not served", givenJSON: `{"clients":[{"id":"a","secret":"s","grants":["password"]}]}`, expectError: `grant "password" is not served`},
		{name: "nok, code grant without redirect URI", givenJSON: `{"clients":[{"id":"a","secret":"s","grants":["authorization_code"]}]}`, expectError: `client "a": authorization_code needs redirect_uris`},
		{name: "nok, claims set sub", givenJSON: `{"users":[{"username":"u","password":"p","claims":{"sub":"x"}}]}`, expectError: `user "u": claims must not set "sub"`},
		{name: "nok, relative post-logout redirect URI", givenJSON: `{"clients":[{"id":"a","secret":"s","grants":["client_credentials"],"post_logout_redirect_uris":["/bye"]}]}`, expectError: `post-logout redirect URI "/bye" must be absolute`},
		{name: "nok, relative redirect URI", givenJSON: `{"clients":[{"id":"a","secret":"s","grants":["authorization_code"],"redirect_uris":["/cb"]}]}`, expectError: `client "a": redirect URI "/cb" must be absolute, without fragment`},
		{name: "nok, redirect URI with fragment", givenJSON: `{"clients":[{"id":"a","secret":"s","grants":["authorization_code"],"redirect_uris":["https://c.example/cb#x"]}]}`, expectError: "must be absolute, without fragment"},
		// "sub" is the client for client_credentials and the user
		// otherwise (RFC 9068 §2.2, §5); equal names would be ambiguous.
		{name: "nok, client id equals a username", givenJSON: `{"clients":[{"id":"alice","secret":"s","grants":["client_credentials"]}],"users":[{"username":"alice","password":"p"}]}`,
			expectError: `client "alice" and user "alice": the client id equals the user's username`},
		{name: "nok, client id equals a user id", givenJSON: `{"clients":[{"id":"u-1","secret":"s","grants":["client_credentials"]}],"users":[{"id":"u-1","username":"bob","password":"p"}]}`,
			expectError: `client "u-1" and user "bob": the client id equals the user's id`},
		// bcrypt refuses it when seeding, after the clients are stored.
		{name: "nok, password longer than bcrypt takes", givenJSON: `{"users":[{"username":"u","password":"` + strings.Repeat("p", 73) + `"}]}`, expectError: `users[0]: password longer than 72 bytes`},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.json")
			require.NoError(t, os.WriteFile(p, []byte(tc.givenJSON), 0o600))
			_, err := loadConfigFile(p)
			assert.ErrorContains(t, err, tc.expectError)
		})
	}
	_, err := loadConfigFile(filepath.Join(t.TempDir(), "missing.json"))
	assert.Error(t, err)
}

func TestDefaultIssuer(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name        string
		givenAddr   string
		expect      string
		expectError string
	}{
		{name: "ok, IPv4 loopback", givenAddr: "127.0.0.1:9096", expect: "http://127.0.0.1:9096"},
		{name: "ok, IPv6 loopback", givenAddr: "[::1]:9096", expect: "http://[::1]:9096"},
		{name: "ok, localhost", givenAddr: "localhost:8080", expect: "http://localhost:8080"},
		{name: "nok, all interfaces", givenAddr: ":9096", expectError: "needs -issuer"},
		{name: "nok, no port", givenAddr: "127.0.0.1", expectError: "missing port"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := defaultIssuer(tc.givenAddr)
			if tc.expectError != "" {
				assert.ErrorContains(t, err, tc.expectError)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.expect, got)
		})
	}
}

// a non-loopback http issuer is refused at start.
func TestNewAppRefusesHTTPIssuer(t *testing.T) {
	t.Parallel()
	_, _, err := newApp(appConfig{Addr: "127.0.0.1:9096", Issuer: "http://auth.example.com", SigningKeyFile: testSigningKey})
	assert.ErrorContains(t, err, "must use https")
}

func TestBanner(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	var b strings.Builder
	ts.app.printBanner(&b)
	out := b.String()
	assert.Contains(t, out, ts.base+demoPath+"\n", "a URL that starts a demo flow")
	assert.Contains(t, out, demoPassword)
	resp, _ := get(t, browser(t), ts.base+demoPath)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Location"), "code_challenge_method=S256")
	assert.Contains(t, out, "grant_type=client_credentials")

	// With -config there is no demo request, but still something to open.
	fc, err := loadConfigFile("config.example.json")
	require.NoError(t, err)
	ts = startApp(t, appConfig{Data: fc, Issuer: "http://127.0.0.1:9096"})
	b.Reset()
	ts.app.printBanner(&b)
	out = b.String()
	assert.Contains(t, out, "http://127.0.0.1:9096/\n", "the home page, which signs in")
	assert.Contains(t, out, "http://127.0.0.1:9096/.well-known/oauth-authorization-server")
	assert.Contains(t, out, "http://127.0.0.1:9096"+authorizePath)
	assert.Contains(t, out, "http://127.0.0.1:9096/.well-known/openid-configuration")
}

// with an https issuer the token endpoint accepts only what the
// trusted proxy received over TLS (the login throttle's use of the
// forwarded address: TestLoginThrottleAddress).
func TestTrustedProxy(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{Issuer: "https://auth.example.com", TrustedProxies: []string{"127.0.0.1"}})
	token := func(proto string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, ts.base+"/oauth/token", strings.NewReader("grant_type=client_credentials&scope=read"))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(demoConfidentialClient, demoClientSecret)
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		return resp
	}
	assert.Equal(t, http.StatusBadRequest, token("").StatusCode, "plain HTTP at the proxy is refused")
	assert.Equal(t, http.StatusBadRequest, token("http").StatusCode)
	assert.Equal(t, http.StatusOK, token("https").StatusCode)
}
