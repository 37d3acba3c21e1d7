package oauth2server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	oauthmw "github.com/echo-oauth2/oauth2server/middleware"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// The resource servers of the resource indicator tests.
const (
	ordersRS = "https://orders.example.com/"
	ledgerRS = "urn:example:ledger"
)

// withResources allows ordersRS and ledgerRS for every client.
func withResources() envOption {
	return withOptions(func(o *oauth2server.Options) { o.Resources = []string{ordersRS, ledgerRS} })
}

// withResourcesJWT is withResources with JWT access tokens.
func withResourcesJWT(t *testing.T) []envOption {
	_, pemKey := genKey(t, "ES256")
	return []envOption{withResources(), withJWT(oauth2server.SigningKey{PEM: pemKey})}
}

// at the authorization endpoint each resource is an absolute
// URI without fragment, allowed for the client, or the request is
// invalid_target, redirected; resource may repeat.
func TestResourceAtAuthorizationEndpoint(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name        string
		given       []string
		expectCode  string
		expectAudit []string
	}{
		{name: "ok, one resource", given: []string{ordersRS}, expectAudit: []string{ordersRS}},
		{name: "ok, two resources", given: []string{ordersRS, ledgerRS}, expectAudit: []string{ordersRS, ledgerRS}},
		{name: "ok, a repeated value counts once", given: []string{ordersRS, ordersRS}, expectAudit: []string{ordersRS}},
		{name: "ok, none", expectAudit: nil},
		{name: "nok, not allowed", given: []string{"https://other.example.com/"}, expectCode: "invalid_target"},
		{name: "nok, one of two not allowed", given: []string{ordersRS, "https://other.example.com/"}, expectCode: "invalid_target"},
		{name: "nok, relative", given: []string{"/orders"}, expectCode: "invalid_target"},
		{name: "nok, fragment", given: []string{ordersRS + "#x"}, expectCode: "invalid_target"},
		{name: "nok, empty fragment", given: []string{ordersRS + "#"}, expectCode: "invalid_target"},
		{name: "nok, a space inside", given: []string{"https://orders.example.com/a b"}, expectCode: "invalid_target"},
		{name: "nok, control character", given: []string{"https://orders.example.com/\x7f"}, expectCode: "invalid_target"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, withResources())
			q := pushParams()
			q.Set("client_id", confID)
			for _, r := range tc.given {
				q.Add("resource", r)
			}
			ar, err := env.authorizeAt(q)
			if tc.expectCode != "" {
				ae := authorizeErr(t, err, tc.expectCode, false)
				assert.Contains(t, ae.RedirectURL(), "state=s-1")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.expectAudit, ar.Resources)
			res, err := env.approve(ar)
			require.NoError(t, err)
			code, err := env.model.GetAuthorizationCode(context.Background(), res.Get("code"))
			require.NoError(t, err)
			assert.Equal(t, tc.expectAudit, code.Resources, "stored with the code (R-183)")
		})
	}
}

// codeWithResources runs the code flow for ordersRS and ledgerRS and
// returns the token response of the exchange, which names tokenResources.
func (env *testEnv) codeWithResources(tokenResources ...string) answer {
	env.t.Helper()
	q := pushParams()
	q.Set("client_id", confID)
	q["resource"] = []string{ordersRS, ledgerRS}
	ar, err := env.authorizeAt(q)
	require.NoError(env.t, err)
	res, err := env.approve(ar)
	require.NoError(env.t, err)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {res.Get("code")}, "redirect_uri": {testRedirect},
		"code_verifier": {oauth2server.RFC7636Verifier}, "resource": tokenResources}
	return env.confToken(form)
}

// the code grants the resources; the exchange may narrow the
// access token's audience, and the refresh token keeps the whole grant,
// from which each refresh may narrow again.
func TestResourceDownscoping(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withResourcesJWT(t)...)
	got := env.codeWithResources(ordersRS)
	requireOK(t, got)
	_, claims := jwtParts(t, str(got.body["access_token"]))
	assert.Equal(t, ordersRS, claims["aud"], "one resource: aud is a string")
	rt := str(got.body["refresh_token"])
	stored := env.refreshToken(rt)
	assert.Equal(t, []string{ordersRS}, stored.Resources)
	assert.Equal(t, []string{ordersRS, ledgerRS}, stored.RefreshTokenResources, "the refresh token keeps the grant")

	// A refresh without resource gets the whole grant.
	rec := env.refresh(confID, confSecret, rt)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := decode(t, rec)
	_, claims = jwtParts(t, str(body["access_token"]))
	assert.Equal(t, []any{ordersRS, ledgerRS}, claims["aud"], "several resources: aud is an array")
	rt = str(body["refresh_token"])

	// One outside the grant is invalid_target and spends nothing.
	rec = env.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"resource": {"https://other.example.com/"}}, confID, confSecret)
	assertOAuthError(t, rec, http.StatusBadRequest, "invalid_target")
	rec = env.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"resource": {ledgerRS}}, confID, confSecret)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	_, claims = jwtParts(t, str(decode(t, rec)["access_token"]))
	assert.Equal(t, ledgerRS, claims["aud"])

	// An exchange naming a resource outside the grant.
	got = env.codeWithResources("https://other.example.com/")
	requireError(t, got, http.StatusBadRequest, "invalid_target", false)
}

// the code is not spent by an exchange naming a resource outside
// the grant.
func TestResourceOutsideGrantKeepsTheCode(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withResources())
	q := pushParams()
	q.Set("client_id", confID)
	q.Set("resource", ordersRS)
	ar, err := env.authorizeAt(q)
	require.NoError(t, err)
	res, err := env.approve(ar)
	require.NoError(t, err)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {res.Get("code")}, "redirect_uri": {testRedirect},
		"code_verifier": {oauth2server.RFC7636Verifier}, "resource": {ledgerRS}}
	requireError(t, env.confToken(form), http.StatusBadRequest, "invalid_target", false)
	form.Del("resource")
	got := env.confToken(form)
	requireOK(t, got)
	assert.Equal(t, []string{ordersRS}, env.accessToken(str(got.body["access_token"])).Resources)
}

// client_credentials with resources: each must be allowed;
// the token's audience is the resources, shown by introspection; without
// resource the default audience stays.
func TestResourceClientCredentials(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]envOption{"opaque": {withResources()}, "JWT": withResourcesJWT(t)} {
		t.Run(name, func(t *testing.T) {
			env := newTestEnv(t, opts...)
			got := env.confToken(url.Values{"grant_type": {"client_credentials"}, "resource": {ordersRS, ledgerRS}})
			requireOK(t, got)
			at := str(got.body["access_token"])
			body := decode(t, env.introspect(at, ""))
			assert.Equal(t, true, body["active"])
			assert.Equal(t, []any{ordersRS, ledgerRS}, body["aud"])

			got = env.confToken(url.Values{"grant_type": {"client_credentials"}, "resource": {ordersRS}})
			requireOK(t, got)
			body = decode(t, env.introspect(str(got.body["access_token"]), ""))
			assert.Equal(t, ordersRS, body["aud"], "one audience is a string")

			got = env.confToken(url.Values{"grant_type": {"client_credentials"}})
			requireOK(t, got)
			body = decode(t, env.introspect(str(got.body["access_token"]), ""))
			assert.Equal(t, testAudience, body["aud"], "no resource: the default audience")

			got = env.confToken(url.Values{"grant_type": {"client_credentials"}, "resource": {"https://other.example.com/"}})
			requireError(t, got, http.StatusBadRequest, "invalid_target", false)
			got = env.confToken(url.Values{"grant_type": {"client_credentials"}, "resource": {"orders"}})
			requireError(t, got, http.StatusBadRequest, "invalid_target", false)
		})
	}
}

// a token for resources is valid at those resources only, a token
// of the default audience at the default audience only; the middleware's
// Audience says which resource it protects.
func TestResourceAudienceAtResourceServer(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]envOption{"opaque": {withResources()}, "JWT": withResourcesJWT(t)} {
		t.Run(name, func(t *testing.T) {
			env := newTestEnv(t, opts...)
			ctx := context.Background()
			orders := str(env.confToken(url.Values{"grant_type": {"client_credentials"}, "resource": {ordersRS}}).body["access_token"])
			plain := str(env.confToken(url.Values{"grant_type": {"client_credentials"}}).body["access_token"])

			_, err := env.srv.ValidateAccessTokenFor(ctx, orders, ordersRS)
			require.NoError(t, err)
			_, err = env.srv.ValidateAccessTokenFor(ctx, orders, ledgerRS)
			assert.ErrorContains(t, err, "invalid_token")
			_, err = env.srv.ValidateAccessToken(ctx, orders)
			assert.ErrorContains(t, err, "another resource", "a restricted token is not for the default audience")
			_, err = env.srv.ValidateAccessToken(ctx, plain)
			require.NoError(t, err)
			_, err = env.srv.ValidateAccessTokenFor(ctx, plain, ordersRS)
			assert.ErrorContains(t, err, "another resource")

			h := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
			env.echo.GET("/orders", h, oauthmw.AuthenticateWithConfig(oauthmw.AuthenticateConfig{Server: env.srv, Audience: ordersRS}))
			env.mux.Handle("GET /orders", nethttp.AuthenticateWithConfig(nethttp.AuthenticateConfig{Server: env.srv, Audience: ordersRS})(
				http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })))
			for layer, srv := range map[string]http.Handler{"echo": env.echo, "net/http": env.mux} {
				for token, want := range map[string]int{orders: http.StatusNoContent, plain: http.StatusUnauthorized} {
					req := httptest.NewRequest(http.MethodGet, "/orders", nil)
					req.Header.Set("Authorization", "Bearer "+token)
					rec := httptest.NewRecorder()
					srv.ServeHTTP(rec, req)
					assert.Equal(t, want, rec.Code, layer)
				}
			}
		})
	}
}

// perClientResources is a ResourceValidator: ledgerRS for confID only.
type perClientResources struct{ *memorymodel.Model }

func (perClientResources) ValidateResource(_ context.Context, c *oauth2server.Client, resource string) (bool, error) {
	return resource == ledgerRS && c.ID == confID, nil
}

// a ResourceValidator decides per client instead of
// Options.Resources; introspection accepts only audiences the client may
// have.
func TestResourceValidatorPerClient(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withResources(), withModel(func(m *memorymodel.Model) oauth2server.Model { return perClientResources{m} }))
	requireOK(t, env.confToken(url.Values{"grant_type": {"client_credentials"}, "resource": {ledgerRS}}))
	got := env.confToken(url.Values{"grant_type": {"client_credentials"}, "resource": {ordersRS}})
	requireError(t, got, http.StatusBadRequest, "invalid_target", false)
	rec := env.post("/token", url.Values{"grant_type": {"client_credentials"}, "resource": {ledgerRS}}, otherID, otherSecret)
	assertOAuthError(t, rec, http.StatusBadRequest, "invalid_target")
}

// A pushed request keeps its repeated resources.
func TestResourcePushed(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withResources())
	form := pushParams()
	form["resource"] = []string{ordersRS, ledgerRS}
	uri := env.pushed(form)
	ar, err := env.authorizeAt(url.Values{"client_id": {confID}, "request_uri": {uri}})
	require.NoError(t, err)
	assert.Equal(t, []string{ordersRS, ledgerRS}, ar.Resources)

	form.Set("resource", "https://other.example.com/")
	r := env.push(form, confID, confSecret)
	requireError(t, r, http.StatusBadRequest, "invalid_target", false)
}

// New checks Options.Resources.
func TestResourceOptions(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"orders", "https://orders.example.com/#x", "https://a.example.com/ b", ""} {
		_, err := oauth2server.New(memorymodel.New(), oauth2server.Options{Resources: []string{bad}})
		assert.ErrorContains(t, err, "Resources", bad)
	}
}
