package nethttp_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
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
			oauth2server.GrantPassword},
		Scopes: []string{"read", "write"}, Introspect: true}))
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
	meta, err := nethttp.MetadataConfig{Server: srv, Endpoints: oauth2server.Endpoints{
		Token: testIssuer + "/token", Revocation: testIssuer + "/revoke", Introspection: testIssuer + "/introspect",
		DeviceAuthorization: testIssuer + "/device_authorization"}}.ToHandler()
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
	for _, k := range []string{"access_token", "refresh_token", "device_code", "user_code", "verification_uri_complete"} {
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
