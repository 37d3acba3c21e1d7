package oauth2server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

func TestSmokeClientCredentials(t *testing.T) {
	m := memorymodel.New()
	require.NoError(t, m.AddClient(&oauth2server.Client{ID: "c1", SecretHash: oauth2server.HashSecret("s3cret"),
		Grants: []string{"client_credentials"}, Scopes: []string{"read", "write"}}))
	srv, err := oauth2server.New(m, oauth2server.Options{})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("c1", "s3cret")
	rec := httptest.NewRecorder()
	srv.ServeToken(rec, req)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, "Bearer", body["token_type"])
	assert.Equal(t, "read", body["scope"])
	assert.EqualValues(t, 3600, body["expires_in"])
	assert.NotContains(t, body, "refresh_token")
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
}
