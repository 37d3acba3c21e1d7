package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startMinimal serves the program on a free loopback port until the test
// ends and returns its base URL. The cleanup checks that it stops cleanly.
func startMinimal(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", ready) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "run after cancel")
		case <-time.After(10 * time.Second):
			t.Error("run did not return after cancel")
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		require.FailNow(t, "run returned before listening", "%v", err)
	case <-time.After(30 * time.Second):
		require.FailNow(t, "run did not listen")
	}
	return ""
}

// tokenRequest asks the token endpoint for a client_credentials token the
// way curl -u does.
func tokenRequest(t *testing.T, base, id, secret string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/oauth/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// whoami calls the protected route, with authorization when not empty.
func whoami(t *testing.T, base, authorization string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/whoami", nil)
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func decode(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m), "body: %s", body)
	return m
}

// What a client of `go run ./example/minimal` sees, over a real socket:
// a token for the right secret, and the protected route that wants it.
func TestMinimal(t *testing.T) {
	t.Parallel()
	base := startMinimal(t)

	resp := tokenRequest(t, base, "service-a", "a-long-random-secret")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", strings.Split(resp.Header.Get("Content-Type"), ";")[0])
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	tok := decode(t, resp)
	assert.Equal(t, "Bearer", tok["token_type"])
	assert.Equal(t, "read", tok["scope"])
	accessToken, _ := tok["access_token"].(string)
	require.NotEmpty(t, accessToken, "access_token in %v", tok)

	t.Run("ok, the token opens the protected route", func(t *testing.T) {
		resp := whoami(t, base, "Bearer "+accessToken)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, map[string]any{"client_id": "service-a"}, decode(t, resp))
	})
	t.Run("nok, the protected route without a token", func(t *testing.T) {
		resp := whoami(t, base, "")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer"),
			"WWW-Authenticate: %q", resp.Header.Get("WWW-Authenticate"))
	})
	t.Run("nok, the protected route with an unknown token", func(t *testing.T) {
		resp := whoami(t, base, "Bearer not-a-token")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
	})
	t.Run("nok, a wrong secret", func(t *testing.T) {
		resp := tokenRequest(t, base, "service-a", "wrong-secret")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		assert.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic"),
			"WWW-Authenticate: %q", resp.Header.Get("WWW-Authenticate"))
		assert.Equal(t, "invalid_client", decode(t, resp)["error"])
	})
}
