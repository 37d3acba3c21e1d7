package oauth2server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

func TestNewErrors(t *testing.T) {
	noop := oauth2server.ExtensionGrantFunc(func(context.Context, *oauth2server.TokenRequest) (*oauth2server.GrantResult, error) {
		return nil, nil
	})
	var testCases = []struct {
		name        string
		givenModel  func(*memorymodel.Model) oauth2server.Model
		givenOpts   oauth2server.Options
		expectError string // substring; empty means New succeeds
	}{
		{name: "ok, zero options on the memory model"},
		{name: "ok, minimal model that can verify its tokens, with default grants",
			givenModel: func(m *memorymodel.Model) oauth2server.Model { return verifyingModel{minimalModel{m}} }},
		// Opaque tokens nothing could check: every protected request would
		// fail, so New refuses.
		{name: "nok, minimal model that cannot verify its opaque tokens",
			givenModel:  func(m *memorymodel.Model) oauth2server.Model { return minimalModel{m} },
			expectError: `opaque access tokens need AccessTokenModel (GetAccessToken)`},
		{name: "ok, minimal model issuing no tokens",
			givenModel: func(m *memorymodel.Model) oauth2server.Model { return minimalModel{m} },
			givenOpts:  oauth2server.Options{Grants: []string{}}},
		{name: "nok, refresh_token without RefreshTokenModel",
			givenModel:  func(m *memorymodel.Model) oauth2server.Model { return minimalModel{m} },
			givenOpts:   oauth2server.Options{Grants: []string{oauth2server.GrantRefreshToken}},
			expectError: `grant "refresh_token" needs RefreshTokenModel (GetRefreshToken, RevokeToken)`},
		{name: "nok, authorization_code without AuthorizationCodeModel",
			givenModel:  func(m *memorymodel.Model) oauth2server.Model { return minimalModel{m} },
			givenOpts:   oauth2server.Options{Grants: []string{oauth2server.GrantAuthorizationCode}},
			expectError: `grant "authorization_code" needs AuthorizationCodeModel (SaveAuthorizationCode, GetAuthorizationCode, RevokeAuthorizationCode)`},
		{name: "nok, authorization_code without RevokeGrant",
			givenModel: func(m *memorymodel.Model) oauth2server.Model {
				return struct {
					minimalModel
					oauth2server.AuthorizationCodeModel
				}{minimalModel{m}, m}
			},
			givenOpts:   oauth2server.Options{Grants: []string{oauth2server.GrantAuthorizationCode}},
			expectError: `grant "authorization_code" needs GrantModel (RevokeGrant`},
		{name: "nok, refresh_token without RevokeGrant",
			givenModel: func(m *memorymodel.Model) oauth2server.Model {
				return struct {
					minimalModel
					oauth2server.RefreshTokenModel
				}{minimalModel{m}, m}
			},
			givenOpts:   oauth2server.Options{Grants: []string{oauth2server.GrantRefreshToken}},
			expectError: `grant "refresh_token" needs GrantModel (RevokeGrant, to revoke the family of a reused refresh token)`},
		{name: "ok, code flow and refresh with the three capabilities",
			givenModel: func(m *memorymodel.Model) oauth2server.Model {
				return struct {
					verifyingModel
					oauth2server.AuthorizationCodeModel
					oauth2server.RefreshTokenModel
					oauth2server.GrantModel
				}{verifyingModel{minimalModel{m}}, m, m, m}
			},
			givenOpts: oauth2server.Options{Grants: []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantRefreshToken}}},
		{name: "nok, password without PasswordModel",
			givenModel:  func(m *memorymodel.Model) oauth2server.Model { return minimalModel{m} },
			givenOpts:   oauth2server.Options{Grants: []string{oauth2server.GrantPassword}, AllowPasswordGrant: true},
			expectError: `grant "password" needs PasswordModel (GetUser)`},
		{name: "nok, AllowPasswordGrant without PasswordModel",
			givenModel:  func(m *memorymodel.Model) oauth2server.Model { return minimalModel{m} },
			givenOpts:   oauth2server.Options{AllowPasswordGrant: true},
			expectError: `AllowPasswordGrant needs PasswordModel (GetUser)`},
		// Listing password alone would silently turn every other grant off.
		{name: "nok, password listed in Grants without AllowPasswordGrant",
			givenOpts:   oauth2server.Options{Grants: []string{oauth2server.GrantPassword}},
			expectError: `set AllowPasswordGrant to enable it`},
		{name: "ok, wrapper with Unwrap exposes the wrapped capabilities",
			givenModel: func(m *memorymodel.Model) oauth2server.Model { return unwrappingModel{minimalModel{m}} },
			givenOpts: oauth2server.Options{Grants: []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantPassword,
				oauth2server.GrantRefreshToken, oauth2server.GrantClientCredentials}, AllowPasswordGrant: true}},
		{name: "nok, nil model", givenModel: func(*memorymodel.Model) oauth2server.Model { return nil }, expectError: "model is nil"},
		{name: "nok, unknown grant", givenOpts: oauth2server.Options{Grants: []string{"implicit"}},
			expectError: `grant "implicit" is not a built-in grant nor in ExtensionGrants`},
		{name: "nok, grant listed twice", givenOpts: oauth2server.Options{Grants: []string{"client_credentials", "client_credentials"}},
			expectError: `grant "client_credentials" is listed twice`},
		{name: "ok, code lifetime of 10 minutes", givenOpts: oauth2server.Options{AuthorizationCodeLifetime: 10 * time.Minute}},
		{name: "nok, code lifetime over 10 minutes (R-48)", givenOpts: oauth2server.Options{AuthorizationCodeLifetime: 10*time.Minute + time.Second},
			expectError: "AuthorizationCodeLifetime 10m1s exceeds the maximum of 10m0s"},
		{name: "nok, negative lifetime", givenOpts: oauth2server.Options{AccessTokenLifetime: -time.Second},
			expectError: "must not be negative"},
		{name: "ok, https issuer with a path", givenOpts: oauth2server.Options{Issuer: "https://as.example.com/tenant1"}},
		{name: "ok, loopback http issuer", givenOpts: oauth2server.Options{Issuer: "http://127.0.0.1:8080"}},
		{name: "ok, localhost http issuer", givenOpts: oauth2server.Options{Issuer: "http://localhost:8080"}},
		{name: "nok, http issuer (R-07)", givenOpts: oauth2server.Options{Issuer: "http://as.example.com"}, expectError: "must use https"},
		{name: "nok, issuer with query (R-07)", givenOpts: oauth2server.Options{Issuer: "https://as.example.com?a=b"}, expectError: "without query or fragment"},
		{name: "nok, issuer with empty query", givenOpts: oauth2server.Options{Issuer: "https://as.example.com?"}, expectError: "without query or fragment"},
		{name: "nok, issuer with fragment", givenOpts: oauth2server.Options{Issuer: "https://as.example.com#x"}, expectError: "without query or fragment"},
		{name: "nok, relative issuer", givenOpts: oauth2server.Options{Issuer: "as.example.com"}, expectError: "must be an absolute URL"},
		{name: "nok, unparsable issuer", givenOpts: oauth2server.Options{Issuer: "https://as example.com/%zz"}, expectError: "must be an absolute URL"},
		{name: "ok, extension grant by URN",
			givenOpts: oauth2server.Options{ExtensionGrants: map[string]oauth2server.ExtensionGrant{"urn:ietf:params:oauth:grant-type:jwt-bearer": noop}}},
		{name: "ok, extension grant listed in Grants",
			givenOpts: oauth2server.Options{Grants: []string{"client_credentials", extGrant},
				ExtensionGrants: map[string]oauth2server.ExtensionGrant{extGrant: noop}}},
		{name: "nok, extension grant type not an absolute URI",
			givenOpts:   oauth2server.Options{ExtensionGrants: map[string]oauth2server.ExtensionGrant{"my_grant": noop}},
			expectError: `extension grant type "my_grant" must be an absolute URI`},
		{name: "nok, nil extension grant",
			givenOpts:   oauth2server.Options{ExtensionGrants: map[string]oauth2server.ExtensionGrant{extGrant: nil}},
			expectError: "is nil"},
		{name: "nok, client_credentials without client authentication (R-65)",
			givenOpts:   oauth2server.Options{RequireClientAuthentication: map[string]bool{oauth2server.GrantClientCredentials: false}},
			expectError: "client_credentials always requires client authentication"},
		{name: "ok, client_credentials with client authentication",
			givenOpts: oauth2server.Options{RequireClientAuthentication: map[string]bool{oauth2server.GrantClientCredentials: true}}},
		{name: "nok, realm with a quote", givenOpts: oauth2server.Options{Realm: `a"b`}, expectError: "Realm must not contain"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			m := memorymodel.New()
			var model oauth2server.Model = m
			if tc.givenModel != nil {
				model = tc.givenModel(m)
			}
			srv, err := oauth2server.New(model, tc.givenOpts)
			if tc.expectError != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.expectError)
				assert.Contains(t, err.Error(), "oauth2server: ")
				assert.Nil(t, srv)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, srv)
		})
	}
}

func TestNewDefaults(t *testing.T) {
	t.Run("ok, every safe built-in grant of the memory model, password off", func(t *testing.T) {
		srv, err := oauth2server.New(memorymodel.New(), oauth2server.Options{})
		require.NoError(t, err)
		assert.Equal(t, []string{"authorization_code", "client_credentials", "refresh_token",
			oauth2server.GrantJWTBearer, oauth2server.GrantTokenExchange}, srv.GrantTypes())
		assert.False(t, srv.GrantEnabled(oauth2server.GrantPassword))
		o := srv.Options()
		assert.Equal(t, time.Hour, o.AccessTokenLifetime)
		assert.Equal(t, 14*24*time.Hour, o.RefreshTokenLifetime)
		assert.Equal(t, 60*time.Second, o.AuthorizationCodeLifetime)
		assert.EqualValues(t, 64<<10, o.MaxBodyBytes)
		assert.Equal(t, "oauth2server", srv.Realm())
		assert.NotNil(t, srv.Logger())
		assert.NotNil(t, o.Now)
	})
	t.Run("ok, minimal model gets client_credentials only", func(t *testing.T) {
		m := memorymodel.New()
		srv, err := oauth2server.New(verifyingModel{minimalModel{m}}, oauth2server.Options{})
		require.NoError(t, err)
		assert.Equal(t, []string{"client_credentials"}, srv.GrantTypes())
		assert.Equal(t, verifyingModel{minimalModel{m}}, srv.Model())
		assert.True(t, srv.CanVerifyAccessTokens())
	})
	t.Run("ok, GrantTypes returns a copy", func(t *testing.T) {
		srv, err := oauth2server.New(memorymodel.New(), oauth2server.Options{})
		require.NoError(t, err)
		g := srv.GrantTypes()
		g[0] = "x"
		assert.Equal(t, "authorization_code", srv.GrantTypes()[0])
	})
}

// A wrapper with Unwrap keeps every grant working end to end.
func TestUnwrappedModelServesEveryGrant(t *testing.T) {
	env := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return unwrappingModel{minimalModel{m}} }))
	env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: confID, Scope: []string{"read"}})
	r := env.serve(tokenReq{body: "grant_type=authorization_code&code=c", auth: basic(confID, confSecret)})
	requireOK(t, r)
	r = env.serve(tokenReq{body: refreshParams(str(r.body["refresh_token"])).Encode(), auth: basic(confID, confSecret)})
	requireOK(t, r)
}

// A storage fault is 503 server_error with the generic description; its
// text reaches the log, never the client (Part 2 §13).
func TestModelFaultsAreServerErrors(t *testing.T) {
	type step struct {
		failing string
		params  url.Values
	}
	code := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}}
	cc := url.Values{"grant_type": {"client_credentials"}}
	var testCases = []step{
		{"GetClient", cc},
		{"SaveToken", cc},
		{"GetUserFromClient", cc},
		{"GenerateAccessToken", cc},
		{"ValidateScope", cc},
		{"GetAuthorizationCode", code},
		{"RevokeAuthorizationCode", code}, // a model without CodeRedemptionModel
		{"RedeemAuthorizationCode", code},
		// password, not authorization_code: a fault after redemption burns
		// the code, so the retry below could not succeed.
		{"GenerateRefreshToken", url.Values{"grant_type": {"password"}, "username": {aliceName}, "password": {alicePassword}}},
		{"GetRefreshToken", refreshParams("rt")},
		{"RevokeToken", refreshParams("rt")},
		{"GetUser", url.Values{"grant_type": {"password"}, "username": {aliceName}, "password": {alicePassword}}},
	}
	for _, tc := range testCases {
		t.Run(tc.failing, func(t *testing.T) {
			var fm *faultModel
			var logs bytes.Buffer
			env := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model {
				fm = &faultModel{Model: m, fail: map[string]bool{}}
				if tc.failing == "RevokeAuthorizationCode" {
					return withoutRedemption{faultModel: fm}
				}
				return fm
			}), withOptions(func(o *oauth2server.Options) {
				o.Grants = []string{"authorization_code", "client_credentials", "refresh_token", "password"}
				o.AllowPasswordGrant = true
				o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			}))
			env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: confID})
			now := env.clock.Now()
			require.NoError(t, env.model.SaveToken(context.Background(), &oauth2server.Token{AccessToken: "at", RefreshToken: "rt",
				ClientID: confID, GrantID: "g", AccessTokenExpiresAt: now.Add(time.Hour),
				RefreshTokenExpiresAt: now.Add(time.Hour)}, nil, nil))

			fm.fail[tc.failing] = true
			r := env.serve(tokenReq{body: tc.params.Encode(), auth: basic(confID, confSecret)})
			requireError(t, r, http.StatusServiceUnavailable, "server_error", false)
			assert.Equal(t, "The authorization server encountered an unexpected condition.", r.body["error_description"])
			assert.NotContains(t, r.raw, "disk")
			assert.NotContains(t, r.raw, "admin")
			assert.NotContains(t, r.raw, tc.failing)
			assert.Contains(t, logs.String(), "disk full")
			assert.Contains(t, logs.String(), tc.failing)

			// The same request succeeds once the fault is gone.
			fm.fail[tc.failing] = false
			requireOK(t, env.serve(tokenReq{body: tc.params.Encode(), auth: basic(confID, confSecret)}))
		})
	}
}

// The RevokeGrant of a replay or a reuse is a fault like any other.
func TestRevokeGrantFault(t *testing.T) {
	env := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model {
		return &faultModel{Model: m, fail: map[string]bool{"RevokeGrant": true}}
	}))
	env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: confID, Revoked: true})
	require.NoError(t, env.model.SaveToken(context.Background(), &oauth2server.Token{AccessToken: "at", RefreshToken: "rt",
		ClientID: confID, GrantID: "g", Revoked: true, RefreshTokenExpiresAt: env.clock.Now().Add(time.Hour)}, nil, nil))
	for _, body := range []string{"grant_type=authorization_code&code=c", refreshParams("rt").Encode()} {
		r := env.serve(tokenReq{body: body, auth: basic(confID, confSecret)})
		requireError(t, r, http.StatusServiceUnavailable, "server_error", false)
	}
}

// Options.Rand feeds default token generation: 256-bit codes and tokens
// a failing source is a server fault, never a weak token.
func TestRandSource(t *testing.T) {
	envWithRand := func(r io.Reader) *testEnv {
		return newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.Rand = r }))
	}
	cc := tokenReq{body: "grant_type=client_credentials", auth: basic(confID, confSecret)}

	r := envWithRand(bytes.NewReader(make([]byte, 1024))).serve(cc)
	requireOK(t, r)
	assert.Equal(t, strings.Repeat("A", 43), r.body["access_token"], "32 bytes from Rand, base64url")

	// 16 bytes for the grant id, then the access token fails.
	r = envWithRand(io.MultiReader(bytes.NewReader(make([]byte, 16)), iotest.ErrReader(io.ErrUnexpectedEOF))).serve(cc)
	requireError(t, r, http.StatusServiceUnavailable, "server_error", false)
	r = envWithRand(iotest.ErrReader(io.ErrUnexpectedEOF)).serve(cc)
	requireError(t, r, http.StatusServiceUnavailable, "server_error", false)

	// Grant id comes from the code; access token 32 bytes; the refresh token fails.
	env := envWithRand(io.MultiReader(bytes.NewReader(bytes.Repeat([]byte{1}, 32)), iotest.ErrReader(io.ErrUnexpectedEOF)))
	env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: confID})
	r = env.serve(tokenReq{body: "grant_type=authorization_code&code=c", auth: basic(confID, confSecret)})
	requireError(t, r, http.StatusServiceUnavailable, "server_error", false)
}
