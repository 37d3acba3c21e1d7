package handlers_test

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
	"github.com/echo-oauth2/oauth2server/handlers"
)

// push sends a pushed authorization request of the fixture client conf
// and returns its request_uri.
func (f *fixture) push(form url.Values) string {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/par", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("conf", "s3cret")
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	require.Equal(f.t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Equal(f.t, "no-store", rec.Header().Get("Cache-Control"))
	var body map[string]any
	require.NoError(f.t, json.Unmarshal(rec.Body.Bytes(), &body))
	return body["request_uri"].(string)
}

// the consent form of a pushed request posts back its
// client_id and request_uri, not its parameters; the decision consumes the
// request_uri, so a second form of the same request, a reload and a replay
// all fail, and no second code is issued.
func TestAuthorizePushedRequestConsentFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	f.e.Any("/par", handlers.PushedAuthorization(f.srv))
	uri := f.push(url.Values{"response_type": {"code"}, "redirect_uri": {confRedirect}, "scope": {"read"},
		"state": {"pushed-state"}, "code_challenge": {testChallenge}, "code_challenge_method": {"S256"}})
	front := url.Values{"client_id": {"conf"}, "request_uri": {uri}, "scope": {"write"}, "state": {"front"}}

	action, token := f.consent(front, "alice")
	assert.Equal(t, "?"+url.Values{"client_id": {"conf"}, "request_uri": {uri}}.Encode(), action,
		"the pushed parameters stay on the server")
	secondAction, secondToken := f.consent(front, "alice") // a second tab, or a reload

	rec := f.do(http.MethodPost, "/authorize"+action, "alice", url.Values{"csrf_token": {token}, "decision": {"approve"}})
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	loc, err := url.Parse(rec.Header().Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, confRedirect, loc.Scheme+"://"+loc.Host+loc.Path)
	assert.Equal(t, "pushed-state", loc.Query().Get("state"))
	assert.Equal(t, testIssuer, loc.Query().Get("iss"))
	require.NotEmpty(t, loc.Query().Get("code"))

	// The other form of the same request: its request_uri is spent.
	rec = f.do(http.MethodPost, "/authorize"+secondAction, "alice", url.Values{"csrf_token": {secondToken}, "decision": {"approve"}})
	assertShown(t, rec, http.StatusBadRequest, "invalid_request_uri")

	// A reload of the page after the decision.
	rec = f.do(http.MethodGet, "/authorize?"+front.Encode(), "alice", nil)
	assertShown(t, rec, http.StatusBadRequest, "invalid_request_uri")
}
