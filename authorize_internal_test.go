package oauth2server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// Authorize refuses what did not come from ValidateAuthorizeRequest, and
// the code response type needs the code capability.
func TestAuthorizeMisuse(t *testing.T) {
	t.Parallel()
	m := &redirectModel{clients: map[string]*Client{"c": {ID: "c", RedirectURIs: []string{"https://a.example/cb"},
		Grants: []string{GrantImplicit, GrantAuthorizationCode}}}, allow: "https://a.example/cb"}
	srv, err := New(m, Options{})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = srv.Authorize(ctx, nil, &User{ID: "u"}, Decision{Approved: true})
	assert.ErrorContains(t, err, "ValidateAuthorizeRequest")
	_, err = srv.Authorize(ctx, &AuthorizeRequest{ResponseType: "code"}, &User{ID: "u"}, Decision{Approved: true})
	assert.ErrorContains(t, err, "ValidateAuthorizeRequest")

	// No AuthorizationCodeModel: the code response type is not offered.
	assert.Empty(t, srv.ResponseTypes())
	r := httptest.NewRequest(http.MethodGet, "/authorize?response_type=code&client_id=c&redirect_uri=https%3A%2F%2Fa.example%2Fcb&state=s", nil)
	_, err = srv.ValidateAuthorizeRequest(r)
	var ae *AuthorizeError
	require.ErrorAs(t, err, &ae)
	assert.False(t, ae.ShowToUser())
	assert.ErrorIs(t, err, oerrors.ErrUnsupportedResponseType)
	redirect, page := srv.AuthorizeErrorResponse(r, err)
	assert.Nil(t, page)
	assert.Contains(t, redirect, "error=unsupported_response_type")

	// Without a user, Authorize refuses too.
	srv2, err := New(m, Options{AllowImplicitGrant: true})
	require.NoError(t, err)
	r = httptest.NewRequest(http.MethodGet, "/authorize?response_type=token&client_id=c&redirect_uri=https%3A%2F%2Fa.example%2Fcb&state=s", nil)
	ar, err := srv2.ValidateAuthorizeRequest(r)
	require.NoError(t, err)
	_, err = srv2.Authorize(ctx, ar, nil, Decision{Approved: true})
	assert.ErrorContains(t, err, "authenticated user")
	redirect, page = srv2.AuthorizeErrorResponse(r, err)
	assert.Empty(t, redirect)
	assert.Equal(t, "server_error", page.Code)

	// A user without an ID (a session object with nobody logged in) is no
	// user: the token would carry no resource owner and look like the
	// client's own (sub = client_id, RFC 9068 §2.2). R-34
	_, err = srv2.Authorize(ctx, ar, &User{}, Decision{Approved: true})
	assert.ErrorContains(t, err, "authenticated user")
	redirect, page = srv2.AuthorizeErrorResponse(r, err)
	assert.Empty(t, redirect)
	assert.Equal(t, "server_error", page.Code)
}
