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
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// fapiOptions is a configuration the FAPI 2.0 profile accepts.
func fapiOptions() oauth2server.Options {
	return oauth2server.Options{Issuer: testIssuer, Audience: testAudience, Profile: oauth2server.ProfileFAPI2}
}

// redirectValidatingModel has a RedirectURIValidator, which may match
// loosely.
type redirectValidatingModel struct{ *memorymodel.Model }

func (redirectValidatingModel) ValidateRedirectURI(context.Context, string, *oauth2server.Client) (bool, error) {
	return true, nil
}

// the profile is enabled as a whole; New refuses every option that
// relaxes it and names the rule.
func TestFAPIProfileRefusesRelaxations(t *testing.T) {
	t.Parallel()
	_, rsaPEM := genKey(t, "RS256")
	var testCases = []struct {
		name        string
		givenModel  oauth2server.Model
		givenMutate func(*oauth2server.Options)
		expectErr   string
	}{
		{name: "nok, no issuer", givenMutate: func(o *oauth2server.Options) { o.Issuer = "" }, expectErr: "(R-192)"},
		{name: "nok, implicit grant", givenMutate: func(o *oauth2server.Options) { o.AllowImplicitGrant = true }, expectErr: "(R-191)"},
		{name: "nok, password grant", givenMutate: func(o *oauth2server.Options) { o.AllowPasswordGrant = true }, expectErr: "(R-187)"},
		{name: "nok, password in Grants", givenMutate: func(o *oauth2server.Options) {
			o.Grants = []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantPassword}
		}, expectErr: "(R-187)"},
		{name: "nok, plain PKCE", givenMutate: func(o *oauth2server.Options) { o.AllowPlainPKCE = true }, expectErr: "(R-191)"},
		{name: "nok, codes living 61 s", givenMutate: func(o *oauth2server.Options) { o.AuthorizationCodeLifetime = 61 * time.Second },
			expectErr: "(R-190)"},
		{name: "nok, request_uri living 600 s", givenMutate: func(o *oauth2server.Options) { o.PAR.Lifetime = 600 * time.Second },
			expectErr: "(R-193)"},
		{name: "nok, RS256 DPoP proofs", givenMutate: func(o *oauth2server.Options) {
			o.DPoP = &oauth2server.DPoPOptions{Algorithms: []string{"ES256", "RS256"}}
		}, expectErr: "(R-194)"},
		{name: "nok, a generated RS256 key", givenMutate: func(o *oauth2server.Options) {
			o.JWT, o.AllowGeneratedKeys, o.GeneratedKeyAlgorithm = &oauth2server.JWTOptions{}, true, "RS256"
		}, expectErr: "(R-194)"},
		{name: "nok, an RS256 signing key", givenMutate: func(o *oauth2server.Options) {
			o.JWT, o.SigningKeys = &oauth2server.JWTOptions{}, []oauth2server.SigningKey{{PEM: rsaPEM}}
		}, expectErr: "(R-194)"},
		{name: "nok, assertion leeway under 10 s", givenMutate: func(o *oauth2server.Options) { o.Assertions.Leeway = 5 * time.Second },
			expectErr: "(R-189)"},
		{name: "nok, assertion leeway over 60 s", givenMutate: func(o *oauth2server.Options) { o.Assertions.Leeway = 2 * time.Minute },
			expectErr: "(R-189)"},
		{name: "nok, a model without pushed authorization requests", givenModel: noPushModel{memorymodel.New()},
			expectErr: "(R-191)"},
		{name: "nok, a model that validates redirect URIs itself", givenModel: redirectValidatingModel{memorymodel.New()},
			expectErr: "(R-192)"},
		{name: "nok, an unknown profile", givenMutate: func(o *oauth2server.Options) { o.Profile = "fapi1" },
			expectErr: "unknown"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			o := fapiOptions()
			if tc.givenMutate != nil {
				tc.givenMutate(&o)
			}
			model := tc.givenModel
			if model == nil {
				model = memorymodel.New()
			}
			_, err := oauth2server.New(model, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.expectErr)
			assert.Contains(t, err.Error(), "FAPI 2.0", "the error names the profile")
		})
	}
	t.Run("ok, the zero values become the profile's", func(t *testing.T) {
		o := fapiOptions()
		o.JWT, o.AllowGeneratedKeys = &oauth2server.JWTOptions{}, true
		srv, err := oauth2server.New(memorymodel.New(), o)
		require.NoError(t, err)
		got := srv.Options()
		assert.Equal(t, oauth2server.ProfileFAPI2, srv.Profile())
		assert.True(t, got.PAR.Require, "R-191: PAR")
		assert.True(t, got.RequirePKCE, "R-191: PKCE")
		require.NotNil(t, got.DPoP)
		assert.True(t, got.DPoP.Require, "R-188: sender-constrained tokens")
		assert.Equal(t, []string{"PS256", "ES256", "EdDSA"}, got.DPoP.Algorithms, "R-194")
		assert.True(t, got.DisableRefreshTokenRotation, "R-190")
		assert.True(t, got.RequireTLS, "R-186: an https issuer")
		assert.Equal(t, "ES256", got.GeneratedKeyAlgorithm, "R-194")
		assert.Nil(t, o.DPoP, "New never writes through the caller's options")
	})
}

// fapiEnv is the fixture Server under the FAPI 2.0 profile; its requests
// arrive over TLS.
func newFAPIEnv(t *testing.T) *testEnv {
	t.Helper()
	env := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
		o.Profile = oauth2server.ProfileFAPI2
		o.Grants = []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantRefreshToken, oauth2server.GrantClientCredentials}
	}))
	return env
}

// tls sends a form to path over TLS, with Basic credentials when secret
// is set.
func (env *testEnv) tls(path string, form url.Values, clientID, secret string) answer {
	env.t.Helper()
	if secret == "" && clientID != "" {
		form.Set("client_id", clientID)
	}
	req := httptest.NewRequest(http.MethodPost, testIssuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.Header.Set("Authorization", basic(clientID, secret))
	}
	return env.doRequest(req)
}

// under the profile, secret-based and
// public clients are refused at every endpoint that authenticates
// clients, front-channel requests need PAR, redirect URIs need https, and
// the endpoints need TLS.
func TestFAPIProfileEnforced(t *testing.T) {
	t.Parallel()
	env := newFAPIEnv(t)
	t.Run("nok, a client_secret_basic client at the PAR endpoint", func(t *testing.T) {
		got := env.tls("/par", pushParams(), confID, confSecret)
		requireError(t, got, http.StatusUnauthorized, "invalid_client", true)
		assert.Contains(t, got.body["error_description"], "private_key_jwt")
	})
	t.Run("nok, a public client at the PAR endpoint", func(t *testing.T) {
		got := env.tls("/par", pushParams(), pubID, "")
		requireError(t, got, http.StatusUnauthorized, "invalid_client", true)
	})
	t.Run("nok, a secret-based client at the token endpoint", func(t *testing.T) {
		got := env.tls("/token", url.Values{"grant_type": {"client_credentials"}}, confID, confSecret)
		requireError(t, got, http.StatusUnauthorized, "invalid_client", true)
	})
	t.Run("nok, at the introspection and revocation endpoints", func(t *testing.T) {
		got := env.tls("/introspect", url.Values{"token": {"x"}}, rsID, rsSecret)
		requireError(t, got, http.StatusUnauthorized, "invalid_client", true)
		got = env.tls("/revoke", url.Values{"token": {"x"}}, confID, confSecret)
		requireError(t, got, http.StatusUnauthorized, "invalid_client", true)
	})
	t.Run("nok, a front-channel authorization request", func(t *testing.T) {
		q := pushParams()
		q.Set("client_id", confID)
		_, err := env.srv.ValidateAuthorizeRequest(httptest.NewRequest(http.MethodGet, testIssuer+"/authorize?"+q.Encode(), nil))
		authorizeErr(t, err, "invalid_request", false)
	})
	t.Run("nok, without TLS", func(t *testing.T) {
		got := env.do(tokenReq{path: "/par", body: pushParams().Encode(), auth: basic(confID, confSecret)})
		requireError(t, got, http.StatusBadRequest, "invalid_request", false)
	})
	t.Run("nok, an http redirect URI of a pushed request", func(t *testing.T) {
		ctx := context.Background()
		require.NoError(t, env.model.AddClient(ctx, &oauth2server.Client{ID: "http-app", RedirectURIs: []string{"http://app.example/cb"},
			Grants: []string{oauth2server.GrantAuthorizationCode}, TokenEndpointAuthMethod: "private_key_jwt"}))
		for clientID, redirect := range map[string]string{"http-app": "http://app.example/cb", confID: testRedirect} {
			q := pushParams()
			q.Set("client_id", clientID)
			q.Set("redirect_uri", redirect)
			uri := oauth2server.RequestURIPrefix + "pushed-" + clientID
			require.NoError(t, env.model.SavePushedAuthorizationRequest(ctx, &oauth2server.PushedAuthorizationRequest{
				RequestURI: uri, ClientID: clientID, Parameters: q.Encode(), IssuedAt: env.clock.Now(),
				ExpiresAt: env.clock.Now().Add(time.Minute)}))
			_, err := env.srv.ValidateAuthorizeRequest(httptest.NewRequest(http.MethodGet,
				testIssuer+"/authorize?"+url.Values{"client_id": {clientID}, "request_uri": {uri}}.Encode(), nil))
			if clientID == confID {
				require.NoError(t, err, "an https redirect URI of a pushed request is fine")
				continue
			}
			ae := authorizeErr(t, err, "invalid_request", true)
			assert.Contains(t, ae.Err.Description, "https")
		}
	})
}

// the metadata says what the profile allows.
func TestFAPIProfileMetadata(t *testing.T) {
	t.Parallel()
	env := newFAPIEnv(t)
	m, err := env.srv.Metadata(oauth2server.Endpoints{Authorization: testIssuer + "/authorize", Token: testIssuer + "/token",
		Revocation: testIssuer + "/revoke", Introspection: testIssuer + "/introspect", PushedAuthorization: testIssuer + "/par"})
	require.NoError(t, err)
	assert.Equal(t, []string{"private_key_jwt"}, m.TokenEndpointAuthMethodsSupported)
	assert.Equal(t, []string{"private_key_jwt"}, m.RevocationEndpointAuthMethodsSupported)
	assert.Equal(t, []string{"private_key_jwt"}, m.IntrospectionEndpointAuthMethodsSupported)
	assert.True(t, m.RequirePushedAuthorizationRequests)
	assert.Equal(t, testIssuer+"/par", m.PushedAuthorizationRequestEndpoint)
	assert.Equal(t, []string{"PS256", "ES256", "EdDSA"}, m.DPoPSigningAlgValuesSupported)
	assert.Equal(t, []string{"S256"}, m.CodeChallengeMethodsSupported)
	assert.Equal(t, []string{"code"}, m.ResponseTypesSupported)
	assert.NotContains(t, m.GrantTypesSupported, oauth2server.GrantPassword)
	assert.True(t, m.AuthorizationResponseIssParameterSupported)
}

// a client registered for private_key_jwt
// authenticates under the profile with a client assertion, whose aud is
// the issuer alone and whose algorithm is one of the profile's.
func TestFAPIProfilePrivateKeyJWT(t *testing.T) {
	t.Parallel()
	env := newFAPIEnv(t)
	ctx := context.Background()
	es := newAssertionKey(t, "ES256", "es")
	rs := newAssertionKey(t, "RS256", "rs")
	require.NoError(t, env.model.AddClient(ctx, &oauth2server.Client{ID: "fapi-pk", RedirectURIs: []string{testRedirect},
		Grants: []string{oauth2server.GrantAuthorizationCode}, Scopes: []string{"read"}, Introspect: true,
		TokenEndpointAuthMethod: oauth2server.AuthMethodPrivateKeyJWT, JWKS: jwks(t, es, rs)}))
	withAssertion := func(form url.Values, key assertionKey, claims map[string]any) url.Values {
		c := assertionClaims("fapi-pk", env.clock.Now())
		for k, v := range claims {
			c[k] = v
		}
		form.Set("client_assertion_type", oauth2server.ClientAssertionTypeJWTBearer)
		form.Set("client_assertion", key.sign(t, c, nil))
		return form
	}

	t.Run("ok, a pushed authorization request", func(t *testing.T) {
		got := env.tls("/par", withAssertion(pushParams(), es, nil), "fapi-pk", "")
		require.Equal(t, http.StatusCreated, got.status, "%v", got.body)
		assert.NotEmpty(t, got.body["request_uri"])
	})
	t.Run("ok, the introspection endpoint", func(t *testing.T) {
		got := env.tls("/introspect", withAssertion(url.Values{"token": {"x"}}, es, nil), "fapi-pk", "")
		require.Equal(t, http.StatusOK, got.status, "%v", got.body)
		assert.Equal(t, false, got.body["active"])
	})
	t.Run("nok, aud an array (R-189)", func(t *testing.T) {
		got := env.tls("/par", withAssertion(pushParams(), es, map[string]any{"aud": []string{testIssuer}}), "fapi-pk", "")
		requireError(t, got, http.StatusUnauthorized, "invalid_client", true)
	})
	t.Run("nok, an RS256 assertion (R-194)", func(t *testing.T) {
		got := env.tls("/par", withAssertion(pushParams(), rs, nil), "fapi-pk", "")
		requireError(t, got, http.StatusUnauthorized, "invalid_client", true)
	})
	t.Run("nok, the client's secret methods", func(t *testing.T) {
		got := env.tls("/par", pushParams(), "fapi-pk", "any-secret")
		requireError(t, got, http.StatusUnauthorized, "invalid_client", true)
	})
}

// R-194 with OpenID Connect: ID tokens are signed with a FAPI algorithm.
// A client that registered none gets the active key's (here EdDSA), no RS256
// key is needed, and Discovery lists no RS256; without a FAPI key New fails.
func TestFAPIProfileIDTokens(t *testing.T) {
	t.Parallel()
	_, edPEM := genKey(t, "EdDSA")
	_, rsaPEM := genKey(t, "RS256")
	m := memorymodel.New()
	ctx := context.Background()
	require.NoError(t, m.AddClient(ctx, &oauth2server.Client{ID: "fapi-rp", RedirectURIs: []string{testRedirect},
		TokenEndpointAuthMethod: oauth2server.AuthMethodPrivateKeyJWT, JWKS: `{"keys":[]}`,
		Grants: []string{oauth2server.GrantAuthorizationCode}, Scopes: []string{"openid"}}))

	o := fapiOptions()
	o.OpenID = &oauth2server.OpenIDOptions{}
	o.SigningKeys = []oauth2server.SigningKey{{PEM: edPEM}}
	srv, err := oauth2server.New(m, o)
	require.NoError(t, err)
	meta, err := srv.OpenIDConfiguration(oauth2server.Endpoints{Authorization: testIssuer + "/authorize",
		Token: testIssuer + "/token", JWKS: testIssuer + "/jwks", PushedAuthorization: testIssuer + "/par"})
	require.NoError(t, err)
	assert.Equal(t, []string{"EdDSA"}, meta.IDTokenSigningAlgValuesSupported)

	o.SigningKeys = []oauth2server.SigningKey{{PEM: rsaPEM}}
	_, err = oauth2server.New(m, o)
	assert.ErrorContains(t, err, "R-194")
}
