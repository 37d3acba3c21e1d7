package oauth2server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

func TestUserInfo(t *testing.T) {
	e := newOIDCEnv(t, nil)
	_, target, err := e.authorize(url.Values{"scope": {"openid profile address"}}, oauth2server.Authentication{Time: e.clock.Now()})
	require.NoError(t, err)
	tok := e.verified(t, e.exchange(target)["access_token"].(string))
	info, err := e.srv.UserInfo(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"sub": aliceID, "name": "Alice Liddell", "address": map[string]any{"country": "UK"}}, info)

	for name, tc := range map[string]struct {
		tok  *oauth2server.Token
		code string
	}{
		"nok, no openid":      {&oauth2server.Token{ClientID: rpID, UserID: aliceID, Scope: []string{"profile"}}, "insufficient_scope"},
		"nok, no user":        {&oauth2server.Token{ClientID: rpID, Scope: []string{"openid"}}, "insufficient_scope"},
		"nok, unknown user":   {&oauth2server.Token{ClientID: rpID, UserID: "ghost", Scope: []string{"openid"}}, "invalid_token"},
		"nok, unknown client": {&oauth2server.Token{ClientID: "gone", UserID: aliceID, Scope: []string{"openid"}}, "invalid_token"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.srv.UserInfo(context.Background(), tc.tok)
			assert.Equal(t, tc.code, oerrors.From(err).Code)
		})
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	e := newOIDCEnv(t, nil)
	ep := oauth2server.Endpoints{Authorization: testIssuer + "/authorize", Token: testIssuer + "/token",
		JWKS: testIssuer + "/jwks", UserInfo: testIssuer + "/userinfo", EndSession: testIssuer + "/logout"}
	m, err := e.srv.OpenIDConfiguration(ep)
	require.NoError(t, err)
	assert.Equal(t, testIssuer, m.Issuer, "R-136")
	assert.Equal(t, ep.UserInfo, m.UserInfoEndpoint)
	assert.Equal(t, ep.EndSession, m.EndSessionEndpoint)
	assert.Equal(t, []string{"RS256"}, m.IDTokenSigningAlgValuesSupported)
	assert.Equal(t, []string{"public", "pairwise"}, m.SubjectTypesSupported)
	assert.Contains(t, m.ScopesSupported, "openid")
	assert.Contains(t, m.ScopesSupported, "offline_access")
	assert.Contains(t, m.ClaimsSupported, "email_verified")
	assert.Contains(t, m.ResponseModesSupported, "form_post")
	assert.True(t, m.ClaimsParameterSupported)
	meta, err := e.srv.Metadata(ep)
	require.NoError(t, err)
	assert.Equal(t, meta, m, "one document, two URLs (R-97)")

	_, err = e.srv.OpenIDConfiguration(oauth2server.Endpoints{Token: ep.Token})
	assert.ErrorContains(t, err, "Authorization, Token and JWKS")
	u, err := oauth2server.OpenIDConfigurationURL("https://as.example.com/tenant/")
	require.NoError(t, err)
	assert.Equal(t, "https://as.example.com/tenant/.well-known/openid-configuration", u)

	plain := newTestEnv(t)
	_, err = plain.srv.Metadata(oauth2server.Endpoints{Token: ep.Token, UserInfo: ep.UserInfo})
	assert.ErrorContains(t, err, "need Options.OpenID")
}

func TestValidateEndSession(t *testing.T) {
	e := newOIDCEnv(t, nil)
	_, target, err := e.authorize(url.Values{"scope": {"openid"}}, oauth2server.Authentication{Time: e.clock.Now()})
	require.NoError(t, err)
	idt := e.exchange(target)["id_token"].(string)
	e.clock.Advance(24 * time.Hour)

	for name, tc := range map[string]struct {
		q        url.Values
		method   string
		redirect string
		hint     bool
		code     string
	}{
		"ok, hint and registered URI": {url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {rpLogout}, "state": {"s1"}},
			http.MethodGet, rpLogout + "?state=s1", true, ""},
		"ok, POST":                 {url.Values{"id_token_hint": {idt}, "client_id": {rpID}}, http.MethodPost, "", true, ""},
		"ok, no hint: confirm":     {url.Values{"client_id": {rpID}}, http.MethodGet, "", false, ""},
		"nok, URI not registered":  {url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"https://evil.example/"}}, http.MethodGet, "", false, "invalid_request"},
		"nok, URI without hint":    {url.Values{"client_id": {rpID}, "post_logout_redirect_uri": {rpLogout}}, http.MethodGet, "", false, "invalid_request"},
		"nok, client not audience": {url.Values{"id_token_hint": {idt}, "client_id": {"app"}}, http.MethodGet, "", false, "invalid_request"},
		"nok, forged hint":         {url.Values{"id_token_hint": {idt[:len(idt)-4] + "AAAA"}}, http.MethodGet, "", false, "invalid_request"},
		"nok, method":              {url.Values{}, http.MethodPut, "", false, "invalid_request"},
	} {
		t.Run(name, func(t *testing.T) {
			var r *http.Request
			if tc.method == http.MethodPost {
				r = httptest.NewRequest(tc.method, "/logout", strings.NewReader(tc.q.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				r = httptest.NewRequest(tc.method, "/logout?"+tc.q.Encode(), nil)
			}
			req, err := e.srv.ValidateEndSession(r)
			if tc.code != "" {
				assert.Equal(t, tc.code, oerrors.From(err).Code)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.hint, req.HintValid)
			assert.Equal(t, tc.redirect, req.RedirectURL())
			assert.Equal(t, rpID, req.Client.ID)
			if tc.hint {
				assert.Equal(t, aliceID, req.Subject)
			}
		})
	}
}
