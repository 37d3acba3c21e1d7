package oauth2server_test

// The one fixture of the package's external tests: testEnv, a Server over
// a memorymodel with the fixture clients and user on a testClock, served
// on Echo by handlers.Register and on net/http by package nethttp; the
// test models that wrap its memorymodel; and the helpers that send
// requests and read the answers.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	stderrors "errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// The Server's configuration. The RFC 7636 Appendix B verifier and
// challenge are oauth2server.RFC7636Verifier and RFC7636Challenge
// (export_test.go), shared with the internal tests.
const (
	testIssuer      = "https://as.example.com"
	testAudience    = "https://api.example.com"
	testRedirect    = "https://app.example/cb"
	verificationURI = testIssuer + "/device"
	// extGrant is an extension grant type the token clients may use; it is
	// enabled only where a test registers it in Options.ExtensionGrants.
	extGrant = "urn:example:params:oauth:grant-type:test"
)

// The fixture clients. Secrets are what a client sends; the model stores
// only their hashes.
const (
	// confID is a confidential client with the token grants (all but
	// device_code) and scopes "read write admin"; pubID is its public twin.
	confID     = "conf"
	confSecret = "conf-secret"
	pubID      = "pub"
	// basicID and postID may use only one authentication method
	// (client_secret_basic, client_secret_post), both with confSecret.
	basicID = "basic-only"
	postID  = "post-only"
	// limitedID has the authorization_code grant only, with confSecret.
	limitedID = "limited"
	// otherID is a second confidential client: authorization_code,
	// refresh_token and client_credentials, scopes "read write".
	otherID     = "other"
	otherSecret = "other-secret"
	// nohashID is registered for client_secret_basic but stored without a
	// secret hash.
	nohashID = "no-hash"
	// weirdID and weirdSecret contain the characters RFC 6749 §2.3.1 makes
	// a client form-urlencode before HTTP Basic.
	weirdID     = "id:with%odd+chars"
	weirdSecret = "pa:ss%wo+rd é"
	// rsID is a resource server that may introspect; rsNoPermID may not.
	rsID           = "rs"
	rsSecret       = "rs-secret"
	rsNoPermID     = "rs-noperm"
	rsNoPermSecret = "noperm-secret"
	// pubIntrospectID is a public client flagged Introspect; being public,
	// it still may not introspect.
	pubIntrospectID = "pub-introspect"
	// tvID is a public device client (device_code and refresh_token, scopes
	// "read write"); cliID a confidential one (device_code, scope "read").
	tvID      = "tv"
	cliID     = "cli"
	cliSecret = "cli-secret"
)

// The fixture user, for the password grant and GetUserFromClient.
const (
	aliceID       = "u-alice"
	aliceName     = "alice"
	alicePassword = "alice-password"
)

// testClock is the injectable clock (Options.Now, memorymodel.WithClock)
// of every test that moves time.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEnv is a Server over a memorymodel with the fixture clients and
// user, with the device grant enabled. echo serves every endpoint through
// handlers.Register, mux the POST endpoints through package nethttp.
type testEnv struct {
	t     *testing.T
	model *memorymodel.Model
	srv   *oauth2server.Server
	echo  *echo.Echo
	mux   *http.ServeMux
	clock *testClock
}

// envConfig is what the options of newTestEnv change.
type envConfig struct {
	opts oauth2server.Options
	wrap func(*memorymodel.Model) oauth2server.Model
}

// envOption changes the Server newTestEnv builds.
type envOption func(*envConfig)

// withOptions lets mutate change the Options before New; nil changes
// nothing.
func withOptions(mutate func(*oauth2server.Options)) envOption {
	return func(c *envConfig) {
		if mutate != nil {
			mutate(&c.opts)
		}
	}
}

// withModel gives New wrap's model instead of the memorymodel, e.g. to
// hide a capability or inject faults; the fixture data are in the
// memorymodel it wraps.
func withModel(wrap func(*memorymodel.Model) oauth2server.Model) envOption {
	return func(c *envConfig) { c.wrap = wrap }
}

// withJWT switches to JWT access tokens signed with the given PEM keys.
func withJWT(keys ...oauth2server.SigningKey) envOption {
	return withOptions(func(o *oauth2server.Options) {
		o.JWT = &oauth2server.JWTOptions{}
		o.SigningKeys = keys
	})
}

// newTestEnv builds a testEnv: its Options set Issuer, Audience, the
// device verification URI, the clock, and a Logger that drops the faults
// some tests provoke; options change them.
func newTestEnv(t *testing.T, options ...envOption) *testEnv {
	t.Helper()
	clock := newClock()
	m := memorymodel.New(memorymodel.WithClock(clock.Now))
	ctx := context.Background()
	tokenGrants := []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantClientCredentials,
		oauth2server.GrantPassword, oauth2server.GrantRefreshToken, extGrant}
	all := []string{"read", "write", "admin"}
	for _, c := range []*oauth2server.Client{
		{ID: confID, SecretHash: oauth2server.HashSecret(confSecret), RedirectURIs: []string{testRedirect}, Grants: tokenGrants, Scopes: all},
		{ID: pubID, RedirectURIs: []string{testRedirect}, Grants: tokenGrants, Scopes: all, TokenEndpointAuthMethod: oauth2server.AuthMethodNone},
		{ID: basicID, SecretHash: oauth2server.HashSecret(confSecret), Grants: tokenGrants, Scopes: all,
			TokenEndpointAuthMethod: oauth2server.AuthMethodClientSecretBasic},
		{ID: postID, SecretHash: oauth2server.HashSecret(confSecret), Grants: tokenGrants, Scopes: all,
			TokenEndpointAuthMethod: oauth2server.AuthMethodClientSecretPost},
		{ID: limitedID, SecretHash: oauth2server.HashSecret(confSecret), RedirectURIs: []string{testRedirect},
			Grants: []string{oauth2server.GrantAuthorizationCode}, Scopes: all},
		{ID: otherID, SecretHash: oauth2server.HashSecret(otherSecret), RedirectURIs: []string{testRedirect},
			Grants: []string{oauth2server.GrantAuthorizationCode, oauth2server.GrantRefreshToken, oauth2server.GrantClientCredentials},
			Scopes: []string{"read", "write"}},
		{ID: nohashID, Grants: tokenGrants, Scopes: all, TokenEndpointAuthMethod: oauth2server.AuthMethodClientSecretBasic},
		{ID: weirdID, SecretHash: oauth2server.HashSecret(weirdSecret), Grants: tokenGrants, Scopes: all},
		{ID: rsID, SecretHash: oauth2server.HashSecret(rsSecret), Introspect: true,
			Grants: []string{oauth2server.GrantClientCredentials}, Scopes: []string{"read"}},
		{ID: rsNoPermID, SecretHash: oauth2server.HashSecret(rsNoPermSecret),
			Grants: []string{oauth2server.GrantClientCredentials}, Scopes: []string{"read"}},
		{ID: pubIntrospectID, RedirectURIs: []string{testRedirect}, TokenEndpointAuthMethod: oauth2server.AuthMethodNone,
			Introspect: true, Grants: []string{oauth2server.GrantAuthorizationCode}},
		{ID: tvID, Grants: []string{oauth2server.GrantDeviceCode, oauth2server.GrantRefreshToken}, Scopes: []string{"read", "write"}},
		{ID: cliID, SecretHash: oauth2server.HashSecret(cliSecret), Grants: []string{oauth2server.GrantDeviceCode}, Scopes: []string{"read"}},
	} {
		require.NoError(t, m.AddClient(ctx, c))
	}
	// A fast hash keeps the many test servers cheap; bcrypt is tested in
	// the memorymodel package.
	require.NoError(t, m.AddUser(ctx, &oauth2server.User{ID: aliceID, Username: aliceName}, oauth2server.HashSecret(alicePassword)))

	cfg := envConfig{opts: oauth2server.Options{Issuer: testIssuer, Audience: testAudience, Now: clock.Now,
		Device: oauth2server.DeviceOptions{VerificationURI: verificationURI},
		Logger: slog.New(slog.DiscardHandler)}}
	for _, o := range options {
		o(&cfg)
	}
	var model oauth2server.Model = m
	if cfg.wrap != nil {
		model = cfg.wrap(m)
	}
	srv, err := oauth2server.New(model, cfg.opts)
	require.NoError(t, err)
	e := echo.New()
	require.NoError(t, handlers.Register(e.Group(""), srv, handlers.RegisterConfig{}))
	// Every method, as handlers.Register does, so that the endpoint's own
	// method check is reached; the device endpoint even when the grant is
	// off, to see the answer of a Server without it.
	mux := http.NewServeMux()
	mux.Handle("/token", nethttp.Token(srv))
	mux.Handle("/revoke", nethttp.Revoke(srv))
	mux.Handle("/introspect", nethttp.Introspect(srv))
	mux.Handle("/device_authorization", nethttp.DeviceAuthorization(srv))
	mux.Handle("/par", nethttp.PushedAuthorization(srv))
	return &testEnv{t: t, model: m, srv: srv, echo: e, mux: mux, clock: clock}
}

// tokenReq describes one request to a POST endpoint.
type tokenReq struct {
	path        string // default /token
	method      string // default POST
	contentType string // default form; "-" for none
	body        string
	query       string
	auth        string // Authorization header
	auth2       string // a second Authorization header, when not empty
}

func (r tokenReq) build() *http.Request {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	target := r.path
	if target == "" {
		target = "/token"
	}
	if r.query != "" {
		target += "?" + r.query
	}
	req := httptest.NewRequest(method, target, strings.NewReader(r.body))
	switch r.contentType {
	case "":
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case "-":
	default:
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	if r.auth2 != "" {
		req.Header.Add("Authorization", r.auth2)
	}
	return req
}

// answer is what a client sees of a JSON answer.
type answer struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (r answer) errorCode() string { return str(r.body["error"]) }

func decodeAnswer(t *testing.T, rec *httptest.ResponseRecorder) answer {
	t.Helper()
	raw, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	out := answer{status: rec.Code, header: rec.Header(), raw: string(raw)}
	require.NoError(t, json.Unmarshal(raw, &out.body), "body %q", raw)
	return out
}

// do sends r through handlers on Echo.
func (env *testEnv) do(r tokenReq) answer {
	env.t.Helper()
	return env.doRequest(r.build())
}

// doRequest sends a prepared request through handlers on Echo.
func (env *testEnv) doRequest(req *http.Request) answer {
	env.t.Helper()
	rec := httptest.NewRecorder()
	env.echo.ServeHTTP(rec, req)
	return decodeAnswer(env.t, rec)
}

// serve sends r through package nethttp.
func (env *testEnv) serve(r tokenReq) answer {
	env.t.Helper()
	return env.serveRequest(r.build())
}

// serveRequest sends a prepared request through package nethttp.
func (env *testEnv) serveRequest(req *http.Request) answer {
	env.t.Helper()
	rec := httptest.NewRecorder()
	env.mux.ServeHTTP(rec, req)
	return decodeAnswer(env.t, rec)
}

// confToken sends form values to the token endpoint with HTTP Basic
// authentication of confID.
func (env *testEnv) confToken(v url.Values) answer {
	env.t.Helper()
	return env.do(tokenReq{body: v.Encode(), auth: basic(confID, confSecret)})
}

// pubToken sends form values to the token endpoint as pubID.
func (env *testEnv) pubToken(v url.Values) answer {
	env.t.Helper()
	v.Set("client_id", pubID)
	return env.do(tokenReq{body: v.Encode()})
}

// post sends a form to path on Echo. With a secret the client
// authenticates with Basic; without, it sends client_id in the body
// (public client).
func (env *testEnv) post(path string, form url.Values, clientID, secret string) *httptest.ResponseRecorder {
	env.t.Helper()
	if clientID != "" && secret == "" {
		form.Set("client_id", clientID)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(clientID, secret)
	}
	rec := httptest.NewRecorder()
	env.echo.ServeHTTP(rec, req)
	return rec
}

func (env *testEnv) get(path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	env.echo.ServeHTTP(rec, req)
	return rec
}

// codeFlow issues an access and a refresh token to the client for user
// through the authorization_code grant (the code is saved directly).
func (env *testEnv) codeFlow(clientID, secret, userID string) (access, refresh string) {
	env.t.Helper()
	now := env.clock.Now()
	code := &oauth2server.AuthorizationCode{
		Code: "code-" + clientID + "-" + userID + "-" + now.String(), RedirectURI: testRedirect, Scope: []string{"read"},
		ClientID: clientID, UserID: userID, CodeChallenge: oauth2server.RFC7636Challenge, CodeChallengeMethod: "S256",
		GrantID: "grant-" + clientID + "-" + userID + "-" + now.String(),
	}
	env.saveCode(code)
	rec := env.post("/token", url.Values{"grant_type": {"authorization_code"}, "code": {code.Code},
		"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}}, clientID, secret)
	require.Equal(env.t, http.StatusOK, rec.Code, rec.Body.String())
	body := decode(env.t, rec)
	return body["access_token"].(string), body["refresh_token"].(string)
}

// clientCredentials issues an access token to a confidential client.
func (env *testEnv) clientCredentials(clientID, secret string) string {
	env.t.Helper()
	rec := env.post("/token", url.Values{"grant_type": {"client_credentials"}}, clientID, secret)
	require.Equal(env.t, http.StatusOK, rec.Code, rec.Body.String())
	return decode(env.t, rec)["access_token"].(string)
}

// refresh runs the refresh_token grant and returns the recorder.
func (env *testEnv) refresh(clientID, secret, rt string) *httptest.ResponseRecorder {
	env.t.Helper()
	return env.post("/token", refreshParams(rt), clientID, secret)
}

// introspect asks as the resource server rsID.
func (env *testEnv) introspect(token, hint string) *httptest.ResponseRecorder {
	env.t.Helper()
	f := url.Values{"token": {token}}
	if hint != "" {
		f.Set("token_type_hint", hint)
	}
	return env.post("/introspect", f, rsID, rsSecret)
}

func (env *testEnv) revoke(token, hint, clientID, secret string) *httptest.ResponseRecorder {
	env.t.Helper()
	f := url.Values{"token": {token}}
	if hint != "" {
		f.Set("token_type_hint", hint)
	}
	return env.post("/revoke", f, clientID, secret)
}

// valid reports whether a resource server would accept the token.
func (env *testEnv) valid(token string) error {
	_, err := env.srv.ValidateAccessToken(context.Background(), token)
	return err
}

// deviceAuthorization sends a device authorization request through
// package nethttp. With a secret the client authenticates with Basic;
// without, form carries its client_id.
func (env *testEnv) deviceAuthorization(form url.Values, clientID, secret string) answer {
	env.t.Helper()
	r := tokenReq{path: "/device_authorization", body: form.Encode()}
	if secret != "" {
		r.auth = basic(clientID, secret)
	}
	return env.serve(r)
}

// startDevice runs a device authorization request of tvID.
func (env *testEnv) startDevice(scope string) (deviceCode, userCode string) {
	env.t.Helper()
	form := url.Values{"client_id": {tvID}}
	if scope != "" {
		form.Set("scope", scope)
	}
	r := env.deviceAuthorization(form, "", "")
	require.Equal(env.t, http.StatusOK, r.status, r.body)
	return r.body["device_code"].(string), r.body["user_code"].(string)
}

// poll runs a device access token request of the public client clientID
// through package nethttp.
func (env *testEnv) poll(clientID, deviceCode string) answer {
	env.t.Helper()
	return env.serve(tokenReq{body: url.Values{
		"grant_type":  {oauth2server.GrantDeviceCode},
		"client_id":   {clientID},
		"device_code": {deviceCode},
	}.Encode()})
}

// race sends the same token request of confID n times at once through
// handlers on Echo and returns the responses. It never calls require
// inside the goroutines.
func (env *testEnv) race(n int, body string) []*httptest.ResponseRecorder {
	recs := make([]*httptest.ResponseRecorder, n)
	reqs := make([]*http.Request, n)
	for i := range recs {
		recs[i] = httptest.NewRecorder()
		reqs[i] = tokenReq{body: body, auth: basic(confID, confSecret)}.build()
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			env.echo.ServeHTTP(recs[i], reqs[i])
		}()
	}
	close(start)
	wg.Wait()
	return recs
}

func countStatus(recs []*httptest.ResponseRecorder) map[int]int {
	out := map[int]int{}
	for _, r := range recs {
		out[r.Code]++
	}
	return out
}

// saveCode stores an authorization code directly in the model, as the
// authorization endpoint would.
func (env *testEnv) saveCode(c *oauth2server.AuthorizationCode) {
	env.t.Helper()
	if c.ExpiresAt.IsZero() {
		c.ExpiresAt = env.clock.Now().Add(time.Minute)
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = env.clock.Now()
	}
	require.NoError(env.t, env.model.SaveAuthorizationCode(context.Background(), c, nil, nil))
}

// accessToken looks a token up in the model by its access token string.
func (env *testEnv) accessToken(s string) *oauth2server.Token {
	env.t.Helper()
	tok, err := env.model.GetAccessToken(context.Background(), s)
	require.NoError(env.t, err)
	require.NotNil(env.t, tok, "access token not stored")
	return tok
}

// refreshToken looks a token up in the model by its refresh token string.
func (env *testEnv) refreshToken(s string) *oauth2server.Token {
	env.t.Helper()
	tok, err := env.model.GetRefreshToken(context.Background(), s)
	require.NoError(env.t, err)
	require.NotNil(env.t, tok, "refresh token not stored")
	return tok
}

// basic returns an Authorization header value with id and secret
// form-urlencoded first, as RFC 6749 §2.3.1 requires.
func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// rawBasic returns an Authorization header value of raw user:pass, without
// the form-urlencoding step.
func rawBasic(userPass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userPass))
}

func refreshParams(rt string, scope ...string) url.Values {
	v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if len(scope) > 0 {
		v.Set("scope", strings.Join(scope, " "))
	}
	return v
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// requireOK asserts a successful token response.
func requireOK(t *testing.T, r answer) {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assertNoStore(t, r)
	assert.Contains(t, r.header.Get("Content-Type"), "application/json")
	assert.NotEmpty(t, r.body["access_token"])
	assert.Equal(t, "Bearer", r.body["token_type"])
}

// assertNoStore checks the caching headers of every token endpoint
// response.
func assertNoStore(t *testing.T, r answer) {
	t.Helper()
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	assert.Equal(t, "no-cache", r.header.Get("Pragma"))
}

// requireError asserts an error response with its code and status, and
// that invalid_client carries a challenge exactly when wanted.
func requireError(t *testing.T, r answer, status int, code string, challenge bool) {
	t.Helper()
	require.Equal(t, status, r.status, r.raw)
	assert.Equal(t, code, r.body["error"], r.raw)
	assertNoStore(t, r)
	assert.Contains(t, r.header.Get("Content-Type"), "application/json")
	if challenge {
		assert.Equal(t, `Basic realm="oauth2server"`, r.header.Get("WWW-Authenticate"))
	} else {
		assert.Empty(t, r.header.Get("WWW-Authenticate"))
	}
	assert.NotContains(t, r.body, "access_token")
}

// assertOAuthError checks a recorded error answer: status, code and no-store.
func assertOAuthError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	assert.Equal(t, code, decode(t, rec)["error"])
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
}

// genKey makes a key of the given algorithm and its PKCS #8 PEM.
func genKey(t *testing.T, alg string) (crypto.Signer, string) {
	t.Helper()
	var k crypto.Signer
	var err error
	switch alg {
	case "RS256":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("unknown alg %s", alg)
	}
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// publicPEM is the PKIX PEM of a public key.
func publicPEM(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// jwtParts decodes the header and claims of a compact JWT without
// verifying it.
func jwtParts(t *testing.T, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, dst))
	}
	return header, claims
}

// minimalModel exposes only the mandatory Model methods of a memorymodel.
type minimalModel struct{ m *memorymodel.Model }

func (mm minimalModel) GetClient(ctx context.Context, id string) (*oauth2server.Client, error) {
	return mm.m.GetClient(ctx, id)
}

func (mm minimalModel) SaveToken(ctx context.Context, t *oauth2server.Token, c *oauth2server.Client, u *oauth2server.User) error {
	return mm.m.SaveToken(ctx, t, c, u)
}

// verifyingModel is minimalModel plus the lookup that verifies its tokens
// (AccessTokenModel): it finds access tokens but cannot revoke them.
type verifyingModel struct{ minimalModel }

func (v verifyingModel) GetAccessToken(ctx context.Context, token string) (*oauth2server.Token, error) {
	return v.m.GetAccessToken(ctx, token)
}

// countingModel counts the calls that prove a request was refused before
// any storage work.
type countingModel struct {
	*memorymodel.Model
	getClient, saveDevice, getUser, getAccess atomic.Int64
}

func (m *countingModel) GetAccessToken(ctx context.Context, token string) (*oauth2server.Token, error) {
	m.getAccess.Add(1)
	return m.Model.GetAccessToken(ctx, token)
}

func (m *countingModel) GetClient(ctx context.Context, id string) (*oauth2server.Client, error) {
	m.getClient.Add(1)
	return m.Model.GetClient(ctx, id)
}

func (m *countingModel) SaveDeviceCode(ctx context.Context, dc *oauth2server.DeviceCode) error {
	m.saveDevice.Add(1)
	return m.Model.SaveDeviceCode(ctx, dc)
}

func (m *countingModel) GetUser(ctx context.Context, username, password string) (*oauth2server.User, error) {
	m.getUser.Add(1)
	return m.Model.GetUser(ctx, username, password)
}

// faulty fails the named lookups, to check that faults are 503 and never
// "unknown token".
type faulty struct {
	*memorymodel.Model
	failRefresh, failAccess, failJTI bool
}

var errStore = stderrors.New("store down")

func (f *faulty) GetRefreshToken(ctx context.Context, tok string) (*oauth2server.Token, error) {
	if f.failRefresh {
		return nil, errStore
	}
	return f.Model.GetRefreshToken(ctx, tok)
}

func (f *faulty) GetAccessToken(ctx context.Context, tok string) (*oauth2server.Token, error) {
	if f.failAccess {
		return nil, errStore
	}
	return f.Model.GetAccessToken(ctx, tok)
}

func (f *faulty) IsJTIRevoked(ctx context.Context, jti string) (bool, error) {
	if f.failJTI {
		return false, errStore
	}
	return f.Model.IsJTIRevoked(ctx, jti)
}

func (f *faulty) RevokeJTI(ctx context.Context, jti string, exp time.Time) error {
	if f.failJTI {
		return errStore
	}
	return f.Model.RevokeJTI(ctx, jti, exp)
}

// faultModel is the memory model with storage faults injected per method,
// and its own token generators and scope validator.
type faultModel struct {
	*memorymodel.Model
	fail map[string]bool
}

var errDiskFull = stderrors.New("disk full at /var/lib/secret-db (user=admin)")

func (f *faultModel) GetClient(ctx context.Context, id string) (*oauth2server.Client, error) {
	if f.fail["GetClient"] {
		return nil, errDiskFull
	}
	return f.Model.GetClient(ctx, id)
}

func (f *faultModel) SaveToken(ctx context.Context, t *oauth2server.Token, c *oauth2server.Client, u *oauth2server.User) error {
	if f.fail["SaveToken"] {
		return errDiskFull
	}
	return f.Model.SaveToken(ctx, t, c, u)
}

func (f *faultModel) GetAuthorizationCode(ctx context.Context, code string) (*oauth2server.AuthorizationCode, error) {
	if f.fail["GetAuthorizationCode"] {
		return nil, errDiskFull
	}
	return f.Model.GetAuthorizationCode(ctx, code)
}

func (f *faultModel) RevokeAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode) (bool, error) {
	if f.fail["RevokeAuthorizationCode"] {
		return false, errDiskFull
	}
	return f.Model.RevokeAuthorizationCode(ctx, c)
}

func (f *faultModel) RedeemAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode, t *oauth2server.Token,
	cl *oauth2server.Client, u *oauth2server.User) (bool, error) {
	if f.fail["RedeemAuthorizationCode"] {
		return false, errDiskFull
	}
	return f.Model.RedeemAuthorizationCode(ctx, c, t, cl, u)
}

// withoutRedemption is a faultModel without CodeRedemptionModel, so that
// its code exchanges take the path of the models that lack it:
// RevokeAuthorizationCode, then SaveToken. The field, shallower than the
// promoted method, hides it.
type withoutRedemption struct {
	*faultModel
	RedeemAuthorizationCode struct{}
}

func (f *faultModel) GetRefreshToken(ctx context.Context, rt string) (*oauth2server.Token, error) {
	if f.fail["GetRefreshToken"] {
		return nil, errDiskFull
	}
	return f.Model.GetRefreshToken(ctx, rt)
}

func (f *faultModel) RevokeToken(ctx context.Context, t *oauth2server.Token) (bool, error) {
	if f.fail["RevokeToken"] {
		return false, errDiskFull
	}
	return f.Model.RevokeToken(ctx, t)
}

func (f *faultModel) RevokeGrant(ctx context.Context, id string) error {
	if f.fail["RevokeGrant"] {
		return errDiskFull
	}
	return f.Model.RevokeGrant(ctx, id)
}

func (f *faultModel) GetUser(ctx context.Context, u, p string) (*oauth2server.User, error) {
	if f.fail["GetUser"] {
		return nil, errDiskFull
	}
	return f.Model.GetUser(ctx, u, p)
}

func (f *faultModel) GetUserFromClient(ctx context.Context, c *oauth2server.Client) (*oauth2server.User, error) {
	if f.fail["GetUserFromClient"] {
		return nil, errDiskFull
	}
	return f.Model.GetUserFromClient(ctx, c)
}

func (f *faultModel) GenerateAccessToken(context.Context, *oauth2server.Client, *oauth2server.User, []string) (string, error) {
	if f.fail["GenerateAccessToken"] {
		return "", errDiskFull
	}
	return "generated-access", nil
}

func (f *faultModel) GenerateRefreshToken(context.Context, *oauth2server.Client, *oauth2server.User, []string) (string, error) {
	if f.fail["GenerateRefreshToken"] {
		return "", errDiskFull
	}
	return "generated-refresh", nil
}

func (f *faultModel) ValidateScope(_ context.Context, c *oauth2server.Client, _ *oauth2server.User, scope []string) ([]string, error) {
	if f.fail["ValidateScope"] {
		return nil, errDiskFull
	}
	if len(scope) == 1 && scope[0] == "refuse" {
		return nil, nil
	}
	if scope == nil {
		return []string{"default"}, nil
	}
	return scope, nil
}

// unwrappingModel is a Model wrapper (for logging, metrics, ...) that
// hides every capability of the wrapped model except through Unwrap.
type unwrappingModel struct{ minimalModel }

func (w unwrappingModel) Unwrap() oauth2server.Model { return w.m }
