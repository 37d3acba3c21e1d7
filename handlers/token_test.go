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
)

// Errors are written by the handler itself, never by Echo's
// HTTPErrorHandler, so their shape and headers are the RFC 6749 §5.2 ones
//
func TestTokenWritesErrorsItself(t *testing.T) {
	m := memorymodel.New()
	require.NoError(t, m.AddClient(context.Background(), &oauth2server.Client{ID: "c", SecretHash: oauth2server.HashSecret("s"),
		Grants: []string{oauth2server.GrantClientCredentials}}))
	srv, err := oauth2server.New(m, oauth2server.Options{Realm: "api"})
	require.NoError(t, err)
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) { t.Errorf("Echo error handler called with %v", err) }
	e.POST("/token", handlers.Token(srv))

	var testCases = []struct {
		name            string
		givenAuth       string
		givenBody       string
		expectStatus    int
		expectCode      string
		expectChallenge string
	}{
		{"ok", "s", "grant_type=client_credentials", http.StatusOK, "", ""},
		{"nok, wrong secret with Basic", "wrong", "grant_type=client_credentials", http.StatusUnauthorized, "invalid_client", `Basic realm="api"`},
		{"nok, wrong secret in the body", "", "grant_type=client_credentials&client_id=c&client_secret=wrong", http.StatusUnauthorized, "invalid_client", `Basic realm="api"`},
		{"nok, repeated parameter", "s", "grant_type=client_credentials&grant_type=client_credentials", http.StatusBadRequest, "invalid_request", ""},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(tc.givenBody))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.givenAuth != "" {
				req.SetBasicAuth("c", tc.givenAuth)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			require.Equal(t, tc.expectStatus, rec.Code, rec.Body.String())
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))
			assert.Contains(t, rec.Header().Get("Content-Type"), "application/json")
			assert.Equal(t, tc.expectChallenge, rec.Header().Get("WWW-Authenticate"))
			var body map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			if tc.expectCode == "" {
				assert.NotEmpty(t, body["access_token"])
				return
			}
			assert.Equal(t, tc.expectCode, body["error"])
			assert.NotEmpty(t, body["error_description"])
			assert.NotContains(t, body, "error_uri")
		})
	}
}
