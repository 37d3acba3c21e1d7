package oauth2server_test

import (
	"context"
	stderrors "errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
)

// RFC 6749 §4.5: an extension grant registered by its URI.
func TestExtensionGrant(t *testing.T) {
	var seen *oauth2server.TokenRequest
	handler := oauth2server.ExtensionGrantFunc(func(_ context.Context, req *oauth2server.TokenRequest) (*oauth2server.GrantResult, error) {
		seen = req
		switch req.Params["assertion"] {
		case "good":
			return &oauth2server.GrantResult{User: &oauth2server.User{ID: "u-ext"}, Scope: req.Scope, IssueRefreshToken: true}, nil
		case "nil":
			return nil, nil
		case "fault":
			return nil, stderrors.New("upstream idp: connection refused")
		default:
			return nil, oautherrors.ErrInvalidGrant.WithDescription("The assertion is invalid.")
		}
	})
	env := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
		o.ExtensionGrants = map[string]oauth2server.ExtensionGrant{extGrant: handler}
	}))
	assert.True(t, env.srv.GrantEnabled(extGrant))
	assert.Contains(t, env.srv.GrantTypes(), extGrant)

	t.Run("ok, tokens issued", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {extGrant}, "assertion": {"good"}, "scope": {"read"}})
		requireOK(t, r)
		assert.Equal(t, "read", r.body["scope"])
		assert.NotEmpty(t, r.body["refresh_token"])
		assert.Equal(t, "u-ext", env.accessToken(str(r.body["access_token"])).UserID)
		require.NotNil(t, seen)
		assert.Equal(t, extGrant, seen.GrantType)
		assert.Equal(t, confID, seen.Client.ID)
		assert.NotNil(t, seen.HTTPRequest)
	})
	t.Run("nok, scope beyond the client's", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {extGrant}, "assertion": {"good"}, "scope": {"root"}})
		requireError(t, r, http.StatusBadRequest, "invalid_scope", false)
	})
	t.Run("nok, the grant's own error", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {extGrant}, "assertion": {"bad"}})
		requireError(t, r, http.StatusBadRequest, "invalid_grant", false)
		assert.Equal(t, "The assertion is invalid.", r.body["error_description"])
	})
	t.Run("nok, nil result", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {extGrant}, "assertion": {"nil"}})
		requireError(t, r, http.StatusBadRequest, "invalid_grant", false)
	})
	t.Run("nok, a fault is server_error without its text", func(t *testing.T) {
		env.t = t
		r := env.confToken(url.Values{"grant_type": {extGrant}, "assertion": {"fault"}})
		requireError(t, r, http.StatusServiceUnavailable, "server_error", false)
		assert.NotContains(t, r.raw, "upstream")
	})
	t.Run("nok, public clients refused by default", func(t *testing.T) {
		env.t = t
		r := env.pubToken(url.Values{"grant_type": {extGrant}, "assertion": {"good"}})
		requireError(t, r, http.StatusBadRequest, "unauthorized_client", false)
	})
}
