package oauth2server_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// a request whose client hung up is no server fault: its storage
// error is logged at debug level, not as an ERROR any client could cause.
func TestClientGoneIsNotLoggedAsError(t *testing.T) {
	var logs strings.Builder
	e := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model {
		return &faultModel{Model: m, fail: map[string]bool{"GetClient": true}}
	}), withOptions(func(o *oauth2server.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	send := func(ctx context.Context) {
		req := tokenReq{body: "grant_type=client_credentials", auth: basic(confID, confSecret)}.build().WithContext(ctx)
		assert.Equal(t, http.StatusServiceUnavailable, e.serveRequest(req).status)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	send(gone)
	assert.Contains(t, logs.String(), "level=DEBUG")
	assert.Contains(t, logs.String(), "the client went away")
	assert.NotContains(t, logs.String(), "level=ERROR")

	logs.Reset()
	send(context.Background())
	assert.Contains(t, logs.String(), "level=ERROR", "a real fault is still an error")
}
