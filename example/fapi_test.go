package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -fapi turns the FAPI 2.0 profile on: the metadata requires pushed
// authorization requests, lists DPoP's algorithms and private_key_jwt alone.
func TestFAPIFlag(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{FAPI: true})
	resp, err := http.Get(ts.base + "/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	assert.Equal(t, true, m["require_pushed_authorization_requests"])
	assert.Equal(t, ts.base+"/oauth/par", m["pushed_authorization_request_endpoint"])
	assert.Equal(t, []any{"PS256", "ES256", "EdDSA"}, m["dpop_signing_alg_values_supported"])
	assert.Equal(t, []any{"private_key_jwt"}, m["token_endpoint_auth_methods_supported"])
}
