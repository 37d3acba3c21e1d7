package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// every answer of every JSON endpoint, success and error alike,
// 405, 413 and 415 included, carries Cache-Control: no-store, Pragma:
// no-cache and, with content, Content-Type: application/json, whether the
// endpoint is mounted by Register on Echo or served by package nethttp.
// The errors are OAuth errors written by the one writer, never by Echo's
// HTTPErrorHandler.
func TestJSONEndpointAnswers(t *testing.T) {
	t.Parallel()
	m := memorymodel.New()
	require.NoError(t, m.AddClient(context.Background(), &oauth2server.Client{ID: "app", SecretHash: oauth2server.HashSecret("app-secret"),
		Grants: []string{oauth2server.GrantClientCredentials, oauth2server.GrantDeviceCode}, Scopes: []string{"read"},
		Introspect: true}))
	srv, err := oauth2server.New(m, oauth2server.Options{Issuer: "https://as.example.com", MaxBodyBytes: 1024,
		Device: oauth2server.DeviceOptions{VerificationURI: "https://as.example.com/device"}})
	require.NoError(t, err)
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) { t.Errorf("Echo's error handler called with %v", err) }
	require.NoError(t, handlers.Register(e.Group("/oauth"), srv, handlers.RegisterConfig{
		BaseURL: "https://as.example.com/oauth", Root: e}))
	e.Any("/nethttp/token", echo.WrapHandler(nethttp.Token(srv)))
	e.Any("/nethttp/device_authorization", echo.WrapHandler(nethttp.DeviceAuthorization(srv)))

	endpoints := []struct {
		path        string
		okBody      string // a valid request body
		okNoContent bool   // success is 200 without content
	}{
		{path: "/oauth/token", okBody: "grant_type=client_credentials"},
		{path: "/oauth/revoke", okBody: "token=unknown", okNoContent: true},
		{path: "/oauth/introspect", okBody: "token=unknown"},
		{path: "/oauth/device_authorization", okBody: "scope=read"},
		{path: "/nethttp/token", okBody: "grant_type=client_credentials"},
		{path: "/nethttp/device_authorization", okBody: "scope=read"},
	}
	const form = "application/x-www-form-urlencoded"
	var testCases = []struct {
		name            string
		whenMethod      string
		whenContentType string
		whenBody        func(okBody string) string
		whenAuth        []string
		expectStatus    int
		expectError     string
	}{
		{name: "ok", expectStatus: http.StatusOK},
		{name: "nok, 400 repeated parameter", whenBody: func(ok string) string { return ok + "&" + ok },
			expectStatus: http.StatusBadRequest, expectError: "invalid_request"},
		{name: "nok, 400 two Authorization headers", whenAuth: []string{"app:app-secret", "app:app-secret"},
			expectStatus: http.StatusBadRequest, expectError: "invalid_request"},
		{name: "nok, 400 malformed Content-Type", whenContentType: form + "; =",
			expectStatus: http.StatusBadRequest, expectError: "invalid_request"},
		{name: "nok, 401 wrong secret", whenAuth: []string{"app:wrong"},
			expectStatus: http.StatusUnauthorized, expectError: "invalid_client"},
		{name: "nok, 405 GET", whenMethod: http.MethodGet,
			expectStatus: http.StatusMethodNotAllowed, expectError: "invalid_request"},
		{name: "nok, 413 body over MaxBodyBytes", whenBody: func(ok string) string { return ok + "&pad=" + strings.Repeat("x", 1024) },
			expectStatus: http.StatusRequestEntityTooLarge, expectError: "invalid_request"},
		{name: "nok, 415 JSON body", whenContentType: "application/json", whenBody: func(string) string { return `{"token":"x"}` },
			expectStatus: http.StatusUnsupportedMediaType, expectError: "invalid_request"},
		{name: "nok, 415 no Content-Type", whenContentType: "-",
			expectStatus: http.StatusUnsupportedMediaType, expectError: "invalid_request"},
	}
	for _, ep := range endpoints {
		for _, tc := range testCases {
			t.Run(ep.path+" "+tc.name, func(t *testing.T) {
				method := tc.whenMethod
				if method == "" {
					method = http.MethodPost
				}
				body := ep.okBody
				if tc.whenBody != nil {
					body = tc.whenBody(ep.okBody)
				}
				req := httptest.NewRequest(method, ep.path, strings.NewReader(body))
				switch tc.whenContentType {
				case "":
					req.Header.Set("Content-Type", form)
				case "-":
				default:
					req.Header.Set("Content-Type", tc.whenContentType)
				}
				auth := tc.whenAuth
				if auth == nil {
					auth = []string{"app:app-secret"}
				}
				for _, a := range auth {
					id, secret, _ := strings.Cut(a, ":")
					r := httptest.NewRequest(http.MethodGet, "/", nil)
					r.SetBasicAuth(id, secret)
					req.Header.Add("Authorization", r.Header.Get("Authorization"))
				}
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)

				require.Equal(t, tc.expectStatus, rec.Code, rec.Body.String())
				h := rec.Header()
				assert.Equal(t, []string{"no-store"}, h.Values("Cache-Control"))
				assert.Equal(t, []string{"no-cache"}, h.Values("Pragma"))
				if tc.expectStatus == http.StatusOK && ep.okNoContent {
					assert.Empty(t, rec.Body.String())
					assert.Empty(t, h.Values("Content-Type"), "no content, no type")
					return
				}
				assert.Equal(t, []string{"application/json"}, h.Values("Content-Type"))
				var got map[string]any
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got), rec.Body.String())
				if tc.expectError == "" {
					assert.NotContains(t, got, "error")
					return
				}
				assert.Equal(t, tc.expectError, got["error"])
				assert.NotEmpty(t, got["error_description"])
				switch tc.expectStatus {
				case http.StatusUnauthorized:
					assert.Equal(t, `Basic realm="oauth2server"`, h.Get("WWW-Authenticate"))
				case http.StatusMethodNotAllowed:
					assert.Equal(t, http.MethodPost, h.Get("Allow"))
				default:
					assert.Empty(t, h.Get("WWW-Authenticate"))
				}
			})
		}
	}
}
