package handlers_test

import (
	"context"
	"encoding/json"
	"io"
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
)

// every error answer of the JSON endpoints mounted by Register
// is an OAuth error with Cache-Control: no-store, including a wrong method
// (which Echo's router would otherwise answer itself) and a body over the
// limit.
func TestRegisterErrorAnswers(t *testing.T) {
	t.Parallel()
	m := memorymodel.New()
	require.NoError(t, m.AddClient(context.Background(), &oauth2server.Client{ID: "tv", Grants: []string{oauth2server.GrantDeviceCode}}))
	srv, err := oauth2server.New(m, oauth2server.Options{Issuer: "https://as.example.com",
		Device: oauth2server.DeviceOptions{VerificationURI: "https://as.example.com/device"}, MaxBodyBytes: 1024})
	require.NoError(t, err)
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group("/oauth"), srv, handlers.RegisterConfig{
		BaseURL: "https://as.example.com/oauth", Root: e}))

	big := "token=" + strings.Repeat("x", 2048)
	var testCases = []struct {
		name         string
		whenMethod   string
		whenBody     string
		expectStatus int
	}{
		{name: "nok, GET", whenMethod: http.MethodGet, expectStatus: http.StatusMethodNotAllowed},
		{name: "nok, PUT", whenMethod: http.MethodPut, whenBody: "token=x", expectStatus: http.StatusMethodNotAllowed},
		{name: "nok, DELETE", whenMethod: http.MethodDelete, expectStatus: http.StatusMethodNotAllowed},
		{name: "nok, body too large", whenMethod: http.MethodPost, whenBody: big, expectStatus: http.StatusRequestEntityTooLarge},
	}
	for _, path := range []string{"/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/device_authorization"} {
		for _, tc := range testCases {
			t.Run(path+" "+tc.name, func(t *testing.T) {
				req := httptest.NewRequest(tc.whenMethod, path, strings.NewReader(tc.whenBody))
				if tc.whenBody != "" {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				assert.Equal(t, tc.expectStatus, rec.Code)
				assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
				assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))
				var body map[string]any
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
				assert.Equal(t, "invalid_request", body["error"])
				if tc.expectStatus == http.StatusMethodNotAllowed {
					assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
				}
			})
		}
	}
}

// RFC 9110 §9.3.2: HEAD is answered wherever GET is, with the same status
// and headers and no body.
func TestRegisterHEAD(t *testing.T) {
	t.Parallel()
	m := memorymodel.New()
	require.NoError(t, m.AddClient(context.Background(), &oauth2server.Client{ID: "web", SecretHash: oauth2server.HashSecret("s3cret"),
		RedirectURIs: []string{confRedirect}, Grants: []string{oauth2server.GrantAuthorizationCode}, Scopes: []string{"read"}}))
	srv, err := oauth2server.New(m, jwtOptions(t))
	require.NoError(t, err)
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group("/oauth"), srv, handlers.RegisterConfig{
		BaseURL: "https://as.example.com/oauth", Root: e,
		Authorize: &handlers.AuthorizeConfig{UserFromRequest: userFromHeader}}))
	hs := httptest.NewServer(e)
	t.Cleanup(hs.Close)

	for _, path := range []string{
		"/.well-known/oauth-authorization-server",
		"/oauth/jwks.json",
		"/oauth/authorize?response_type=code&client_id=web&state=s&scope=read",
	} {
		t.Run(path, func(t *testing.T) {
			do := func(method string) (*http.Response, string) {
				req, err := http.NewRequest(method, hs.URL+path, nil)
				require.NoError(t, err)
				req.Header.Set(userHeader, "alice")
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				return resp, string(b)
			}
			get, getBody := do(http.MethodGet)
			head, headBody := do(http.MethodHead)
			require.NotEmpty(t, getBody)
			assert.Equal(t, get.StatusCode, head.StatusCode)
			assert.NotEqual(t, http.StatusMethodNotAllowed, head.StatusCode)
			assert.Equal(t, get.Header.Get("Content-Type"), head.Header.Get("Content-Type"))
			assert.Equal(t, get.Header.Get("Cache-Control"), head.Header.Get("Cache-Control"))
			assert.Empty(t, headBody)
		})
	}
}
