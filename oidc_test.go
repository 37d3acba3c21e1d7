package oauth2server_test

import (
	"context"
	"crypto/sha256"
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
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

const (
	rpID        = "rp"
	rpSecret    = "rp-secret"
	rpLogout    = "https://app.example/logged-out"
	aliceID     = "u-alice"
	testNonce   = "n-0S6_WzA2Mj"
	rpChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // S256 of testVerifier
)

// oidcEnv is env with OpenID Connect on: an RS256 signing key, the
// relying party "rp" and alice with claims.
type oidcEnv struct {
	*env
	key string // PEM of the signing key
}

func newOIDCEnv(t *testing.T, mutate func(*oauth2server.Options)) *oidcEnv {
	t.Helper()
	_, pemKey := genKey(t, "RS256")
	e := newEnv(t, nil, func(o *oauth2server.Options) {
		o.OpenID = &oauth2server.OpenIDOptions{PairwiseSubjectKey: []byte(strings.Repeat("k", 32))}
		o.SigningKeys = []oauth2server.SigningKey{{PEM: pemKey}}
		if mutate != nil {
			mutate(o)
		}
	})
	ctx := context.Background()
	require.NoError(t, e.m.AddClient(ctx, &oauth2server.Client{ID: rpID, SecretHash: oauth2server.HashSecret(rpSecret),
		RedirectURIs: []string{testRedirect}, PostLogoutRedirectURIs: []string{rpLogout},
		Grants: []string{"authorization_code", "refresh_token"}, Scopes: []string{"openid", "profile", "email", "address", "read"}}))
	require.NoError(t, e.m.AddUser(ctx, &oauth2server.User{ID: aliceID, Username: "alice"}, oauth2server.HashSecret("pw")))
	require.NoError(t, e.m.SetUserClaims(ctx, aliceID, map[string]any{
		"name": "Alice Liddell", "email": "alice@example.com", "email_verified": true,
		"address": map[string]any{"country": "UK"}, "phone_number": "+44 1",
	}))
	return &oidcEnv{env: e, key: pemKey}
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
		"state": {"xyz"}, "code_challenge": {rpChallenge}, "code_challenge_method": {"S256"}}
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
		"redirect_uri": {testRedirect}, "code_verifier": {testVerifier}}, rpID, rpSecret)
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

	info, err := e.srv.UserInfo(context.Background(), e.accessToken(t, body["access_token"].(string)))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"sub": aliceID, "email": "alice@example.com", "email_verified": true}, info,
		"address asked for UserInfo, but the address scope was not granted")
}

func (e *oidcEnv) accessToken(t *testing.T, raw string) *oauth2server.Token {
	tok, err := e.srv.ValidateAccessToken(context.Background(), raw)
	require.NoError(t, err)
	return tok
}

func TestUserInfo(t *testing.T) {
	e := newOIDCEnv(t, nil)
	_, target, err := e.authorize(url.Values{"scope": {"openid profile address"}}, oauth2server.Authentication{Time: e.clock.Now()})
	require.NoError(t, err)
	tok := e.accessToken(t, e.exchange(target)["access_token"].(string))
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

func TestCheckLogin(t *testing.T) {
	e := newOIDCEnv(t, nil)
	alice := &oauth2server.User{ID: aliceID}
	now := e.clock.Now()
	fresh := oauth2server.Authentication{Time: now.Add(-10 * time.Second)}
	old := oauth2server.Authentication{Time: now.Add(-2 * time.Hour)}
	for name, tc := range map[string]struct {
		q       url.Values
		user    *oauth2server.User
		auth    oauth2server.Authentication
		want    oauth2server.Interaction
		errCode string
	}{
		"ok, logged in":                 {url.Values{}, alice, fresh, oauth2server.InteractionNone, ""},
		"ok, plain OAuth needs a user":  {url.Values{"scope": {"read"}}, nil, fresh, oauth2server.InteractionLogin, ""},
		"ok, no user":                   {url.Values{}, nil, fresh, oauth2server.InteractionLogin, ""},
		"ok, prompt=login":              {url.Values{"prompt": {"login"}}, alice, fresh, oauth2server.InteractionLogin, ""},
		"ok, prompt=select_account":     {url.Values{"prompt": {"select_account"}}, alice, fresh, oauth2server.InteractionLogin, ""},
		"ok, max_age=0":                 {url.Values{"max_age": {"0"}}, alice, fresh, oauth2server.InteractionLogin, ""},
		"ok, max_age satisfied":         {url.Values{"max_age": {"60"}}, alice, fresh, oauth2server.InteractionNone, ""},
		"ok, max_age exceeded":          {url.Values{"max_age": {"60"}}, alice, old, oauth2server.InteractionLogin, ""},
		"ok, max_age, no auth time":     {url.Values{"max_age": {"60"}}, alice, oauth2server.Authentication{}, oauth2server.InteractionLogin, ""},
		"nok, prompt=none, no user":     {url.Values{"prompt": {"none"}}, nil, fresh, 0, "login_required"},
		"nok, prompt=none, max_age old": {url.Values{"prompt": {"none"}, "max_age": {"60"}}, alice, old, 0, "login_required"},
		"ok, prompt=none, logged in":    {url.Values{"prompt": {"none"}}, alice, fresh, oauth2server.InteractionNone, ""},
	} {
		t.Run(name, func(t *testing.T) {
			q := tc.q
			if q.Get("scope") == "" {
				q.Set("scope", "openid")
			}
			ar, err := e.validate(q)
			require.NoError(t, err)
			got, err := e.srv.CheckLogin(ar, tc.user, tc.auth)
			if tc.errCode != "" {
				var ae *oauth2server.AuthorizeError
				require.ErrorAs(t, err, &ae)
				assert.False(t, ae.ShowToUser(), "redirected (R-127)")
				assert.Equal(t, tc.errCode, ae.Err.Code)
				u, _ := url.Parse(ae.RedirectURL())
				assert.Equal(t, "xyz", u.Query().Get("state"))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestOpenIDRequestValidation(t *testing.T) {
	e := newOIDCEnv(t, nil)
	for name, tc := range map[string]struct {
		q     url.Values
		code  string
		shown bool
	}{
		"nok, prompt none with login": {url.Values{"prompt": {"none login"}}, "invalid_request", false},
		"nok, unknown prompt":         {url.Values{"prompt": {"maybe"}}, "invalid_request", false},
		"nok, max_age negative":       {url.Values{"max_age": {"-1"}}, "invalid_request", false},
		"nok, max_age text":           {url.Values{"max_age": {"soon"}}, "invalid_request", false},
		"nok, nonce too long":         {url.Values{"nonce": {strings.Repeat("n", 513)}}, "invalid_request", false},
		"nok, claims not JSON":        {url.Values{"claims": {"{"}}, "invalid_request", false},
		"nok, claims trailing data":   {url.Values{"claims": {"{} {}"}}, "invalid_request", false},
		"nok, request object":         {url.Values{"request": {"eyJ.x.y"}}, "request_not_supported", false},
		"nok, request_uri":            {url.Values{"request_uri": {"urn:x"}}, "request_uri_not_supported", false},
		"nok, id_token_hint forged":   {url.Values{"id_token_hint": {"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}}, "invalid_request", false},
		"nok, response_mode unknown":  {url.Values{"response_mode": {"jwt"}}, "invalid_request", true},
	} {
		t.Run(name, func(t *testing.T) {
			q := tc.q
			q.Set("scope", "openid")
			_, err := e.validate(q)
			var ae *oauth2server.AuthorizeError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.code, ae.Err.Code)
			assert.Equal(t, tc.shown, ae.ShowToUser())
		})
	}
}

func TestIDTokenHint(t *testing.T) {
	e := newOIDCEnv(t, nil)
	_, target, err := e.authorize(url.Values{"scope": {"openid"}}, oauth2server.Authentication{Time: e.clock.Now()})
	require.NoError(t, err)
	idt := e.exchange(target)["id_token"].(string)
	e.clock.Advance(24 * time.Hour) // expired hints are valid hints

	ar, err := e.validate(url.Values{"scope": {"openid"}, "id_token_hint": {idt}, "prompt": {"none"}})
	require.NoError(t, err)
	assert.Equal(t, aliceID, ar.OpenID.IDTokenHintSubject)
	_, err = e.srv.CheckLogin(ar, &oauth2server.User{ID: aliceID}, oauth2server.Authentication{Time: e.clock.Now()})
	require.NoError(t, err)
	_, err = e.srv.CheckLogin(ar, &oauth2server.User{ID: "u-bob"}, oauth2server.Authentication{Time: e.clock.Now()})
	var ae *oauth2server.AuthorizeError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "login_required", ae.Err.Code, "never a token for another user (R-129)")
}

func TestPromptNoneConsentAndLoginReturn(t *testing.T) {
	e := newOIDCEnv(t, nil)
	ar, err := e.validate(url.Values{"scope": {"openid"}, "prompt": {"none"}})
	require.NoError(t, err)
	var ae *oauth2server.AuthorizeError
	require.ErrorAs(t, ar.ConsentRequired(), &ae)
	assert.Equal(t, "consent_required", ae.Err.Code)

	ar, err = e.validate(url.Values{"scope": {"openid"}, "prompt": {"login consent"}, "max_age": {"0"}})
	require.NoError(t, err)
	assert.NoError(t, ar.ConsentRequired())
	assert.True(t, ar.MustAskConsent())
	back, err := url.ParseQuery(ar.LoginReturnQuery())
	require.NoError(t, err)
	assert.Equal(t, "consent", back.Get("prompt"), "login is satisfied by the login it asked for")
	assert.False(t, back.Has("max_age"))
	assert.Equal(t, rpID, back.Get("client_id"))
}

func TestFormPostResponseMode(t *testing.T) {
	e := newOIDCEnv(t, nil)
	ar, target, err := e.authorize(url.Values{"scope": {"openid"}, "response_mode": {"form_post"},
		"state": {`"><script>x</script>`}}, oauth2server.Authentication{Time: e.clock.Now()})
	require.NoError(t, err)
	assert.Equal(t, oauth2server.ResponseModeFormPost, oauth2server.ResponseModeOf(ar, nil))
	rec := httptest.NewRecorder()
	oauth2server.AuthorizeResponse(rec, http.StatusSeeOther, target, ar.ResponseMode)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "form-action https://app.example")
	assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'none'")
	body := rec.Body.String()
	assert.Contains(t, body, `action="`+testRedirect+`"`)
	assert.Contains(t, body, `name="code"`)
	assert.NotContains(t, body, "<script>x", "values are escaped (R-140)")
	assert.Empty(t, rec.Header().Get("Location"))

	// An error of a form_post request is posted too.
	_, err = e.validate(url.Values{"scope": {"openid"}, "response_mode": {"form_post"}, "prompt": {"bogus"}})
	assert.Equal(t, oauth2server.ResponseModeFormPost, oauth2server.ResponseModeOf(nil, err))
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

	plain := newEnv(t, nil, nil)
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

// OIDC Core §3.1.2.1: an authorization request may be a form POST.
func TestAuthorizeRequestByPost(t *testing.T) {
	e := newOIDCEnv(t, nil)
	q := url.Values{"client_id": {rpID}, "response_type": {"code"}, "redirect_uri": {testRedirect}, "state": {"xyz"},
		"scope": {"openid"}, "nonce": {testNonce}, "code_challenge": {rpChallenge}, "code_challenge_method": {"S256"}}
	r := httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(q.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	require.True(t, oauth2server.IsAuthorizePost(r))
	ar, err := e.srv.ValidateAuthorizeRequest(r)
	require.NoError(t, err)
	assert.Equal(t, testNonce, ar.OpenID.Nonce)

	r = httptest.NewRequest(http.MethodPost, "/authorize", strings.NewReader(q.Encode()+"&state=again"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err = e.srv.ValidateAuthorizeRequest(r)
	var ae *oauth2server.AuthorizeError
	require.ErrorAs(t, err, &ae)
	assert.True(t, ae.ShowToUser(), "a bad body is shown, not redirected")

	r = httptest.NewRequest(http.MethodPost, "/authorize?"+q.Encode(), strings.NewReader("decision=approve"))
	assert.False(t, oauth2server.IsAuthorizePost(r), "a POST with a query is the consent form")
}
