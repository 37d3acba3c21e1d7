package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/echo-oauth2/oauth2server"
)

// auditEvents parses the JSON lines of an audit log.
func auditEvents(t *testing.T, log *syncBuffer) []oauth2server.Event {
	var out []oauth2server.Event
	sc := bufio.NewScanner(strings.NewReader(log.String()))
	for sc.Scan() {
		var e oauth2server.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "one JSON object per line: %s", sc.Text())
		out = append(out, e)
	}
	return out
}

// The example writes the audit events as JSON lines: its own login events
// and the Server's, with no password, token or username of a failed login.
func TestAuditLog(t *testing.T) {
	log := &syncBuffer{}
	ts := startApp(t, appConfig{AuditLog: log})
	c := browser(t)

	_, body := get(t, c, ts.base+loginPath)
	resp, _ := post(t, c, ts.base+loginPath, url.Values{
		"csrf_token": {csrfToken(t, body)}, "username": {"hunter2-typed-here"}, "password": {"wrong-password"},
	})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	ts.login(t, c)
	cc := clientcredentials.Config{ClientID: demoConfidentialClient, ClientSecret: demoClientSecret, TokenURL: ts.base + "/oauth/token"}
	tok, err := cc.Token(t.Context())
	require.NoError(t, err)

	events := auditEvents(t, log)
	var got []oauth2server.EventKind
	for _, e := range events {
		got = append(got, e.Kind)
		assert.NotEmpty(t, e.Address, "%s has the client address", e.Kind)
		assert.False(t, e.Time.IsZero())
	}
	assert.Equal(t, []oauth2server.EventKind{oauth2server.EventLoginFailed, oauth2server.EventLoginSucceeded,
		oauth2server.EventTokenIssued}, got)
	raw := log.String()
	for _, secret := range []string{"hunter2-typed-here", "wrong-password", demoPassword, tok.AccessToken, demoClientSecret} {
		assert.NotContains(t, raw, secret)
	}
	assert.Equal(t, demoConfidentialClient, events[2].ClientID)
}
