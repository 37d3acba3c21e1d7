package oauth2server_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// The relying party of the OpenID Connect tests, added to the fixture
// clients by newOIDCEnv.
const (
	rpID      = "rp"
	rpSecret  = "rp-secret"
	rpLogout  = "https://app.example/logged-out"
	testNonce = "n-0S6_WzA2Mj"
)

// oidcEnv is the fixture with OpenID Connect on: an RS256 signing key, the
// relying party "rp" and alice with claims.
type oidcEnv struct {
	*testEnv
	key string // PEM of the signing key
}

func newOIDCEnv(t *testing.T, mutate func(*oauth2server.Options)) *oidcEnv {
	t.Helper()
	_, pemKey := genKey(t, "RS256")
	e := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
		o.OpenID = &oauth2server.OpenIDOptions{PairwiseSubjectKey: []byte(strings.Repeat("k", 32))}
		o.SigningKeys = []oauth2server.SigningKey{{PEM: pemKey}}
	}), withOptions(mutate))
	ctx := context.Background()
	require.NoError(t, e.model.AddClient(ctx, &oauth2server.Client{ID: rpID, SecretHash: oauth2server.HashSecret(rpSecret),
		RedirectURIs: []string{testRedirect}, PostLogoutRedirectURIs: []string{rpLogout},
		Grants: []string{"authorization_code", "refresh_token"}, Scopes: []string{"openid", "profile", "email", "address", "read"}}))
	require.NoError(t, e.model.SetUserClaims(ctx, aliceID, map[string]any{
		"name": "Alice Liddell", "email": "alice@example.com", "email_verified": true,
		"address": map[string]any{"country": "UK"}, "phone_number": "+44 1",
	}))
	return &oidcEnv{testEnv: e, key: pemKey}
}

// authorize validates the authorization request with query q (client rp
// and PKCE filled in) and approves it for alice, returning the redirect.
func (e *oidcEnv) authorize(q url.Values, auth oauth2server.Authentication) (*oauth2server.AuthorizeRequest, string, error) {
	e.t.Helper()
	ar, err := e.validate(q)
	if err != nil {
		return nil, "", err
	}
	target, err := e.srv.Authorize(context.Background(), ar, &oauth2server.User{ID: aliceID},
		oauth2server.Decision{Approved: true, Authentication: auth})
	return ar, target, err
}

func (e *oidcEnv) validate(q url.Values) (*oauth2server.AuthorizeRequest, error) {
	e.t.Helper()
	base := url.Values{"client_id": {rpID}, "response_type": {"code"}, "redirect_uri": {testRedirect},
		"state": {"xyz"}, "code_challenge": {oauth2server.RFC7636Challenge}, "code_challenge_method": {"S256"}}
	for k, v := range q {
		base[k] = v
	}
	r := httptest.NewRequest(http.MethodGet, "/authorize?"+base.Encode(), nil)
	return e.srv.ValidateAuthorizeRequest(r)
}

// exchange redeems the code of a redirect and returns the token response.
func (e *oidcEnv) exchange(target string) map[string]any {
	e.t.Helper()
	u, err := url.Parse(target)
	require.NoError(e.t, err)
	code := u.Query().Get("code")
	require.NotEmpty(e.t, code, target)
	rec := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}}, rpID, rpSecret)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	return decode(e.t, rec)
}

// verifyIDToken checks an ID token with the published JWKS as a relying
// party would and returns its claims.
func (e *oidcEnv) verifyIDToken(raw string) jwt.MapClaims {
	e.t.Helper()
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(testIssuer),
		jwt.WithAudience(rpID), jwt.WithTimeFunc(e.clock.Now)).ParseWithClaims(raw, claims, func(tk *jwt.Token) (any, error) {
		assert.Equal(e.t, "JWT", tk.Header["typ"])
		for _, k := range e.srv.JWKS().Keys {
			if k.Kid == tk.Header["kid"] {
				return jwt.ParseRSAPublicKeyFromPEM([]byte(publicPEMOf(e.t, e.key)))
			}
		}
		return nil, assert.AnError
	})
	require.NoError(e.t, err)
	return claims
}

func publicPEMOf(t *testing.T, privPEM string) string {
	k, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(privPEM))
	require.NoError(t, err)
	return publicPEM(t, &k.PublicKey)
}

func atHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func TestNewOpenIDConfiguration(t *testing.T) {
	_, rsa := genKey(t, "RS256")
	_, ec := genKey(t, "ES256")
	m := memorymodel.New()
	for name, tc := range map[string]struct {
		opts    oauth2server.Options
		model   oauth2server.Model
		wantErr string
	}{
		"ok, RS256 key": {opts: oauth2server.Options{Issuer: testIssuer, SigningKeys: []oauth2server.SigningKey{{PEM: rsa}}}},
		"ok, generated key": {opts: oauth2server.Options{Issuer: testIssuer, AllowGeneratedKeys: true,
			GeneratedKeyAlgorithm: "ES256"}},
		"ok, ES256 active and RS256 beside": {opts: oauth2server.Options{Issuer: testIssuer,
			SigningKeys: []oauth2server.SigningKey{{PEM: ec, Active: true}, {PEM: rsa}}}},
		"nok, no key":        {opts: oauth2server.Options{Issuer: testIssuer}, wantErr: "OpenID Connect ID tokens need signing keys"},
		"nok, only ES256":    {opts: oauth2server.Options{Issuer: testIssuer, SigningKeys: []oauth2server.SigningKey{{PEM: ec}}}, wantErr: "RS256"},
		"nok, no issuer":     {opts: oauth2server.Options{SigningKeys: []oauth2server.SigningKey{{PEM: rsa}}}, wantErr: "Issuer"},
		"nok, no claims":     {opts: oauth2server.Options{Issuer: testIssuer, SigningKeys: []oauth2server.SigningKey{{PEM: rsa}}}, model: noClaims{m}, wantErr: "UserClaimsModel"},
		"nok, negative life": {opts: oauth2server.Options{Issuer: testIssuer, SigningKeys: []oauth2server.SigningKey{{PEM: rsa}}}, wantErr: "IDTokenLifetime"},
		"nok, short pairwise key": {opts: oauth2server.Options{Issuer: testIssuer, SigningKeys: []oauth2server.SigningKey{{PEM: rsa}}},
			wantErr: "PairwiseSubjectKey"},
	} {
		t.Run(name, func(t *testing.T) {
			o := tc.opts
			o.OpenID = &oauth2server.OpenIDOptions{}
			switch name {
			case "nok, negative life":
				o.OpenID.IDTokenLifetime = -time.Second
			case "nok, short pairwise key":
				o.OpenID.PairwiseSubjectKey = []byte("short")
			}
			model := tc.model
			if model == nil {
				model = m
			}
			srv, err := oauth2server.New(model, o)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.True(t, srv.OpenIDEnabled())
			assert.True(t, srv.PublishesJWKS())
			assert.False(t, srv.IssuesJWT(), "ID tokens do not make access tokens JWTs")
		})
	}
}

// noClaims hides the memorymodel's UserClaimsModel.
type noClaims struct{ *memorymodel.Model }

func (n noClaims) GetUserClaims() {}

func TestIDTokenFromCodeExchange(t *testing.T) {
	e := newOIDCEnv(t, nil)
	authTime := e.clock.Now().Add(-time.Minute)
	_, target, err := e.authorize(url.Values{"scope": {"openid profile"}, "nonce": {testNonce}},
		oauth2server.Authentication{Time: authTime, ACR: "urn:acr:pwd", AMR: []string{"pwd"}})
	require.NoError(t, err)
	body := e.exchange(target)
	raw, ok := body["id_token"].(string)
	require.True(t, ok, "id_token in %v", body)
	c := e.verifyIDToken(raw)
	assert.Equal(t, testIssuer, c["iss"])
	assert.Equal(t, aliceID, c["sub"])
	assert.Equal(t, rpID, c["aud"])
	assert.Equal(t, testNonce, c["nonce"], "R-123")
	assert.EqualValues(t, authTime.Unix(), c["auth_time"])
	assert.Equal(t, "urn:acr:pwd", c["acr"])
	assert.Equal(t, []any{"pwd"}, c["amr"])
	assert.Equal(t, atHash(body["access_token"].(string)), c["at_hash"], "R-124")
	assert.EqualValues(t, e.clock.Now().Add(oauth2server.DefaultIDTokenLifetime).Unix(), c["exp"])
	assert.NotContains(t, c, "name", "scope claims go to UserInfo when an access token is issued (R-134)")
	assert.NotContains(t, c, "azp")

	t.Run("refresh: same sub and auth_time, no nonce (R-131)", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		rec := e.refresh(rpID, rpSecret, body["refresh_token"].(string))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		nb := decode(t, rec)
		c2 := e.verifyIDToken(nb["id_token"].(string))
		assert.Equal(t, c["sub"], c2["sub"])
		assert.Equal(t, c["auth_time"], c2["auth_time"])
		assert.NotContains(t, c2, "nonce")
		assert.Greater(t, c2["iat"].(float64), c["iat"].(float64))
	})
}

func TestNoIDTokenWithoutOpenIDScope(t *testing.T) {
	e := newOIDCEnv(t, nil)
	ar, target, err := e.authorize(url.Values{"scope": {"read"}, "nonce": {testNonce}}, oauth2server.Authentication{})
	require.NoError(t, err)
	assert.Nil(t, ar.OpenID)
	assert.NotContains(t, e.exchange(target), "id_token", "R-126")
}

func TestIDTokenClaimsRequest(t *testing.T) {
	e := newOIDCEnv(t, nil)
	claims := `{"id_token":{"email":{"essential":true},"phone_number":null},"userinfo":{"address":null}}`
	_, target, err := e.authorize(url.Values{"scope": {"openid email"}, "claims": {claims}},
		oauth2server.Authentication{Time: e.clock.Now()})
	require.NoError(t, err)
	body := e.exchange(target)
	c := e.verifyIDToken(body["id_token"].(string))
	assert.Equal(t, "alice@example.com", c["email"], "requested in the ID token, scope granted")
	assert.NotContains(t, c, "phone_number", "phone was not granted (R-130)")

	info, err := e.srv.UserInfo(context.Background(), e.verified(t, body["access_token"].(string)))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"sub": aliceID, "email": "alice@example.com", "email_verified": true}, info,
		"address asked for UserInfo, but the address scope was not granted")
}

func (e *oidcEnv) verified(t *testing.T, raw string) *oauth2server.Token {
	tok, err := e.srv.ValidateAccessToken(context.Background(), raw)
	require.NoError(t, err)
	return tok
}

func TestPairwiseSubjects(t *testing.T) {
	e := newOIDCEnv(t, nil)
	ctx := context.Background()
	mk := func(id, redirect, sector string) *oauth2server.Client {
		c := &oauth2server.Client{ID: id, RedirectURIs: []string{redirect}, SubjectType: oauth2server.SubjectPairwise, SectorIdentifier: sector}
		return c
	}
	a, err := e.srv.Subject(mk("a", "https://one.example/cb", ""), aliceID)
	require.NoError(t, err)
	b, err := e.srv.Subject(mk("b", "https://one.example/other", ""), aliceID)
	require.NoError(t, err)
	c, err := e.srv.Subject(mk("c", "https://two.example/cb", ""), aliceID)
	require.NoError(t, err)
	d, err := e.srv.Subject(mk("d", "https://two.example/cb", "one.example"), aliceID)
	require.NoError(t, err)
	assert.Equal(t, a, b, "one sector, one subject")
	assert.NotEqual(t, a, c, "two sectors, two subjects")
	assert.Equal(t, a, d, "the sector identifier decides")
	assert.NotEqual(t, aliceID, a)
	_, err = e.srv.Subject(&oauth2server.Client{ID: "x", SubjectType: "pairwise",
		RedirectURIs: []string{"https://one.example/cb", "https://two.example/cb"}}, aliceID)
	assert.ErrorContains(t, err, "span several hosts")
	_ = ctx
}

// OIDC Core §3.1.2.1: an authorization request may be a form POST.

// The device grant returns an ID token when openid was granted, without
// nonce or auth_time: the device never sent a nonce and the approval page
// reports no login time.
func TestIDTokenFromDeviceGrant(t *testing.T) {
	e := newOIDCEnv(t, nil)
	ctx := context.Background()
	require.NoError(t, e.model.AddClient(ctx, &oauth2server.Client{ID: "tv-oidc",
		Grants: []string{oauth2server.GrantDeviceCode}, Scopes: []string{"openid", "profile"}}))
	r := e.deviceAuthorization(url.Values{"client_id": {"tv-oidc"}, "scope": {"openid profile"}}, "", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.NoError(t, e.srv.ApproveDevice(ctx, r.body["user_code"].(string), &oauth2server.User{ID: aliceID}, nil))
	tok := e.poll("tv-oidc", r.body["device_code"].(string))
	require.Equal(t, http.StatusOK, tok.status, tok.body)
	raw, ok := tok.body["id_token"].(string)
	require.True(t, ok, "id_token in %v", tok.body)
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(testIssuer),
		jwt.WithAudience("tv-oidc"), jwt.WithTimeFunc(e.clock.Now)).ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		return jwt.ParseRSAPublicKeyFromPEM([]byte(publicPEMOf(t, e.key)))
	})
	require.NoError(t, err)
	assert.Equal(t, aliceID, claims["sub"])
	assert.NotContains(t, claims, "nonce")
	assert.NotContains(t, claims, "auth_time")
	assert.Equal(t, atHash(tok.body["access_token"].(string)), claims["at_hash"])

	// Without openid, no ID token.
	r = e.deviceAuthorization(url.Values{"client_id": {"tv-oidc"}, "scope": {"profile"}}, "", "")
	require.Equal(t, http.StatusOK, r.status)
	require.NoError(t, e.srv.ApproveDevice(ctx, r.body["user_code"].(string), &oauth2server.User{ID: aliceID}, nil))
	tok = e.poll("tv-oidc", r.body["device_code"].(string))
	require.Equal(t, http.StatusOK, tok.status)
	assert.NotContains(t, tok.body, "id_token")
}

// A client registered for EdDSA ID tokens gets them from the EdDSA key,
// with at_hash from SHA-512 (OIDC Core §3.1.3.6 with Ed25519); a client
// registered for an algorithm without a key is refused at authorization.
func TestIDTokenSigningAlgPerClient(t *testing.T) {
	edKey, edPEM := genKey(t, "EdDSA")
	e := newOIDCEnv(t, func(o *oauth2server.Options) {
		o.SigningKeys[0].Active = true // the RS256 key signs access-token JWTs; none here
		o.SigningKeys = append(o.SigningKeys, oauth2server.SigningKey{PEM: edPEM})
	})
	ctx := context.Background()
	require.NoError(t, e.model.AddClient(ctx, &oauth2server.Client{ID: "ed-rp", SecretHash: oauth2server.HashSecret(rpSecret),
		RedirectURIs: []string{testRedirect}, Grants: []string{"authorization_code"}, Scopes: []string{"openid"},
		IDTokenSignedResponseAlg: oauth2server.AlgEdDSA}))
	require.NoError(t, e.model.AddClient(ctx, &oauth2server.Client{ID: "es-rp", SecretHash: oauth2server.HashSecret(rpSecret),
		RedirectURIs: []string{testRedirect}, Grants: []string{"authorization_code"}, Scopes: []string{"openid"},
		IDTokenSignedResponseAlg: oauth2server.AlgES256}))

	ar, err := e.validate(url.Values{"client_id": {"ed-rp"}, "scope": {"openid"}})
	require.NoError(t, err)
	target, err := e.srv.Authorize(ctx, ar, &oauth2server.User{ID: aliceID}, oauth2server.Decision{Approved: true})
	require.NoError(t, err)
	u, _ := url.Parse(target)
	rec := e.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")},
		"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}}, "ed-rp", rpSecret)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := decode(t, rec)
	claims := jwt.MapClaims{}
	tk, err := jwt.NewParser(jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithTimeFunc(e.clock.Now)).ParseWithClaims(body["id_token"].(string), claims,
		func(*jwt.Token) (any, error) { return edKey.Public(), nil })
	require.NoError(t, err)
	assert.Equal(t, "EdDSA", tk.Method.Alg())
	sum := sha512.Sum512([]byte(body["access_token"].(string)))
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:32]), claims["at_hash"])

	_, err = e.validate(url.Values{"client_id": {"es-rp"}, "scope": {"openid"}})
	var ae *oauth2server.AuthorizeError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "unauthorized_client", ae.Err.Code, "no ES256 key")
}
