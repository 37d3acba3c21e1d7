package modelobserve_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	"github.com/echo-oauth2/oauth2server/modelobserve"
	"github.com/echo-oauth2/oauth2server/mongomodel"
)

// capabilityCheck tells whether a model has one capability, found the way
// oauth2server.New finds it.
type capabilityCheck struct {
	name string
	has  func(oauth2server.Model) bool
}

func check[T any](name string) capabilityCheck {
	return capabilityCheck{name, func(m oauth2server.Model) bool {
		_, ok := oauth2server.Capability[T](m)
		return ok
	}}
}

// allCapabilities lists every optional interface of oauth2server.
func allCapabilities() []capabilityCheck {
	return []capabilityCheck{
		check[oauth2server.AccessTokenModel]("AccessTokenModel"),
		check[oauth2server.RefreshTokenModel]("RefreshTokenModel"),
		check[oauth2server.GrantModel]("GrantModel"),
		check[oauth2server.AuthorizationCodeModel]("AuthorizationCodeModel"),
		check[oauth2server.CodeRedemptionModel]("CodeRedemptionModel"),
		check[oauth2server.PasswordModel]("PasswordModel"),
		check[oauth2server.ClientUserModel]("ClientUserModel"),
		check[oauth2server.AccessTokenGenerator]("AccessTokenGenerator"),
		check[oauth2server.RefreshTokenGenerator]("RefreshTokenGenerator"),
		check[oauth2server.AuthorizationCodeGenerator]("AuthorizationCodeGenerator"),
		check[oauth2server.ScopeValidator]("ScopeValidator"),
		check[oauth2server.ScopeVerifier]("ScopeVerifier"),
		check[oauth2server.RedirectURIValidator]("RedirectURIValidator"),
		check[oauth2server.ResourceValidator]("ResourceValidator"),
		check[oauth2server.ConsentModel]("ConsentModel"),
		check[oauth2server.CounterModel]("CounterModel"),
		check[oauth2server.DeviceCodeModel]("DeviceCodeModel"),
		check[oauth2server.RevokedJTIModel]("RevokedJTIModel"),
		check[oauth2server.UserClaimsModel]("UserClaimsModel"),
		check[oauth2server.PushedAuthorizationRequestModel]("PushedAuthorizationRequestModel"),
	}
}

// storageCapabilities are the ones memorymodel and mongomodel implement:
// all but the generators and validators, which have defaults.
var storageCapabilities = []string{
	"AccessTokenModel", "RefreshTokenModel", "GrantModel", "AuthorizationCodeModel", "CodeRedemptionModel",
	"PasswordModel", "ClientUserModel", "ConsentModel", "CounterModel", "DeviceCodeModel", "RevokedJTIModel", "UserClaimsModel",
	"PushedAuthorizationRequestModel",
}

// full is memorymodel with the seven optional hooks too: every capability.
// Each hook fails on a cancelled context, as memorymodel's methods do.
type full struct{ *memorymodel.Model }

func (full) GenerateAccessToken(ctx context.Context, _ *oauth2server.Client, _ *oauth2server.User, _ []string) (string, error) {
	return "generated-access-" + rand.Text(), ctx.Err()
}

func (full) GenerateRefreshToken(ctx context.Context, _ *oauth2server.Client, _ *oauth2server.User, _ []string) (string, error) {
	return "generated-refresh-" + rand.Text(), ctx.Err()
}

func (full) GenerateAuthorizationCode(ctx context.Context, _ *oauth2server.Client, _ *oauth2server.User, _ []string) (string, error) {
	return "generated-code-" + rand.Text(), ctx.Err()
}

func (full) ValidateScope(ctx context.Context, _ *oauth2server.Client, _ *oauth2server.User, scope []string) ([]string, error) {
	return scope, ctx.Err()
}

func (full) VerifyScope(ctx context.Context, _ *oauth2server.Token, _ []string) (bool, error) {
	return true, ctx.Err()
}

func (full) ValidateRedirectURI(ctx context.Context, _ string, _ *oauth2server.Client) (bool, error) {
	return false, ctx.Err()
}

func (full) ValidateResource(ctx context.Context, _ *oauth2server.Client, _ string) (bool, error) {
	return false, ctx.Err()
}

// onlyCore has the mandatory Model and nothing else.
type onlyCore struct{ oauth2server.Model }

// accessOnly can look up access tokens, and nothing else.
type accessOnly struct {
	oauth2server.Model
	oauth2server.AccessTokenModel
}

// noFamilies has refresh tokens and codes but cannot revoke a grant family,
// so New enables neither the refresh_token nor the authorization_code grant.
type noFamilies struct {
	oauth2server.Model
	oauth2server.AccessTokenModel
	oauth2server.RefreshTokenModel
	oauth2server.AuthorizationCodeModel
}

// plainWrapper is a wrapper of the documented minimal kind: Model and
// Unwrap only.
type plainWrapper struct{ oauth2server.Model }

func (w plainWrapper) Unwrap() oauth2server.Model { return w.Model }

// offlineMongo is a mongomodel whose client never connects: the capability
// checks need no server.
func offlineMongo(t *testing.T) *mongomodel.Model {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1/").SetServerSelectionTimeout(100 * time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return mongomodel.New(client.Database("offline"), mongomodel.Options{})
}

func nopObserver() modelobserve.Observer {
	return modelobserve.Func(func(context.Context, string, time.Time, error) {})
}

// The wrapper has exactly the capabilities of the model it wraps: the
// ones it has stay visible, the ones it lacks do not appear.
func TestWrapKeepsCapabilities(t *testing.T) {
	t.Parallel()
	mem := memorymodel.New()
	var testCases = []struct {
		name         string
		givenModel   oauth2server.Model
		expectExists []string // nil: all twenty-five
	}{
		{name: "ok, memorymodel", givenModel: mem, expectExists: storageCapabilities},
		{name: "ok, mongomodel", givenModel: offlineMongo(t), expectExists: storageCapabilities},
		{name: "ok, every capability", givenModel: full{mem}, expectExists: nil},
		{name: "ok, Model alone", givenModel: onlyCore{mem}, expectExists: []string{}},
		{name: "ok, access tokens alone", givenModel: accessOnly{mem, mem}, expectExists: []string{"AccessTokenModel"}},
		{name: "ok, no GrantModel", givenModel: noFamilies{mem, mem, mem, mem},
			expectExists: []string{"AccessTokenModel", "RefreshTokenModel", "AuthorizationCodeModel"}},
		{name: "ok, behind a plain wrapper", givenModel: plainWrapper{mem}, expectExists: storageCapabilities},
		{name: "ok, wrapped twice", givenModel: modelobserve.Wrap(accessOnly{mem, mem}, nopObserver()),
			expectExists: []string{"AccessTokenModel"}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			wrapped := modelobserve.Wrap(tc.givenModel, nopObserver())
			for _, c := range allCapabilities() {
				expect := tc.expectExists == nil || slices.Contains(tc.expectExists, c.name)
				require.Equal(t, expect, c.has(tc.givenModel), "precondition: the bare model and %s", c.name)
				assert.Equal(t, expect, c.has(wrapped), c.name)
			}
		})
	}
}

// What New enables and refuses is the same with the wrapper as without it.
func TestWrapNewBehavesAsBare(t *testing.T) {
	t.Parallel()
	mem := memorymodel.New()
	device := oauth2server.Options{Device: oauth2server.DeviceOptions{VerificationURI: "https://as.example.com/device"},
		Issuer: "https://as.example.com"}
	var testCases = []struct {
		name        string
		givenModel  oauth2server.Model
		givenOpts   oauth2server.Options
		expectError string
	}{
		{name: "ok, memorymodel", givenModel: mem, givenOpts: device},
		{name: "ok, every capability", givenModel: full{mem}, givenOpts: device},
		{name: "ok, no GrantModel: no code or refresh grant, no device grant", givenModel: noFamilies{mem, mem, mem, mem}, givenOpts: device},
		{name: "ok, access tokens alone", givenModel: accessOnly{mem, mem}},
		{name: "nok, Model alone cannot verify opaque tokens", givenModel: onlyCore{mem},
			expectError: "opaque access tokens need AccessTokenModel"},
		{name: "nok, refresh_token without GrantModel", givenModel: noFamilies{mem, mem, mem, mem},
			givenOpts: oauth2server.Options{Grants: []string{oauth2server.GrantRefreshToken}}, expectError: "needs GrantModel"},
		{name: "nok, password without PasswordModel", givenModel: accessOnly{mem, mem},
			givenOpts: oauth2server.Options{AllowPasswordGrant: true}, expectError: "needs PasswordModel"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			bare, errBare := oauth2server.New(tc.givenModel, tc.givenOpts)
			wrapped, errWrapped := oauth2server.New(modelobserve.Wrap(tc.givenModel, nopObserver()), tc.givenOpts)
			if tc.expectError != "" {
				require.ErrorContains(t, errBare, tc.expectError)
				assert.EqualError(t, errWrapped, errBare.Error())
				return
			}
			require.NoError(t, errBare)
			require.NoError(t, errWrapped)
			assert.Equal(t, bare.GrantTypes(), wrapped.GrantTypes())
			assert.Equal(t, bare.DeviceAuthorizationEnabled(), wrapped.DeviceAuthorizationEnabled())
			assert.Equal(t, bare.CanVerifyAccessTokens(), wrapped.CanVerifyAccessTokens())
			assert.Equal(t, bare.ResponseTypes(), wrapped.ResponseTypes())
		})
	}
}

// The Server calls the model's own generator through the wrapper, and the
// default one when the model has none.
func TestWrapKeepsFallbacks(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name        string
		givenFull   bool
		expectToken string // prefix
	}{
		{name: "ok, the model's generator", givenFull: true, expectToken: "generated-access-"},
		{name: "ok, the default generator", givenFull: false, expectToken: ""},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memorymodel.New()
			require.NoError(t, mem.AddClient(context.Background(), &oauth2server.Client{ID: "svc",
				SecretHash: oauth2server.HashSecret("secret"), Grants: []string{oauth2server.GrantClientCredentials}}))
			var m oauth2server.Model = mem
			if tc.givenFull {
				m = full{mem}
			}
			var seen []string
			var mu sync.Mutex
			srv, err := oauth2server.New(modelobserve.Wrap(m, modelobserve.Func(func(_ context.Context, method string, _ time.Time, _ error) {
				mu.Lock()
				seen = append(seen, method)
				mu.Unlock()
			})), oauth2server.Options{})
			require.NoError(t, err)

			r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.SetBasicAuth("svc", "secret")
			resp, err := srv.Token(r)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(resp.AccessToken, tc.expectToken), resp.AccessToken)
			mu.Lock()
			defer mu.Unlock()
			assert.Contains(t, seen, "GetClient")
			assert.Contains(t, seen, "SaveToken")
			assert.Equal(t, tc.givenFull, slices.Contains(seen, "GenerateAccessToken"), "%v", seen)
		})
	}
}

// ctxKey marks the context an observer's Start returned.
type ctxKey struct{}

type call struct {
	method     string
	err        error
	sawStarted bool // End got the context Start returned
}

// recorder records every call it observes. Its Start hands the model a
// cancelled context, on which every method of memorymodel (and of full)
// fails: so each method's error shows that the model got Start's context,
// and End must see that error.
type recorder struct {
	mu     sync.Mutex
	starts []string
	calls  []call
}

func (r *recorder) Start(ctx context.Context, method string) context.Context {
	r.mu.Lock()
	r.starts = append(r.starts, method)
	r.mu.Unlock()
	ctx, cancel := context.WithCancel(context.WithValue(ctx, ctxKey{}, method))
	cancel()
	return ctx
}

func (r *recorder) End(ctx context.Context, method string, start time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if start.IsZero() || time.Since(start) < 0 {
		err = errors.New("bad start time")
	}
	r.calls = append(r.calls, call{method: method, err: err, sawStarted: ctx.Value(ctxKey{}) == method})
}

// Every method of every capability goes through the observer, with the
// context its Start returned, and its error reaches End.
func TestWrapObservesEveryMethod(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	m := modelobserve.Wrap(full{memorymodel.New()}, rec)
	ctx := context.Background()
	at, _ := oauth2server.Capability[oauth2server.AccessTokenModel](m)
	rt, _ := oauth2server.Capability[oauth2server.RefreshTokenModel](m)
	gm, _ := oauth2server.Capability[oauth2server.GrantModel](m)
	cm, _ := oauth2server.Capability[oauth2server.AuthorizationCodeModel](m)
	cr, _ := oauth2server.Capability[oauth2server.CodeRedemptionModel](m)
	pm, _ := oauth2server.Capability[oauth2server.PasswordModel](m)
	cu, _ := oauth2server.Capability[oauth2server.ClientUserModel](m)
	ag, _ := oauth2server.Capability[oauth2server.AccessTokenGenerator](m)
	rg, _ := oauth2server.Capability[oauth2server.RefreshTokenGenerator](m)
	cg, _ := oauth2server.Capability[oauth2server.AuthorizationCodeGenerator](m)
	sv, _ := oauth2server.Capability[oauth2server.ScopeValidator](m)
	sf, _ := oauth2server.Capability[oauth2server.ScopeVerifier](m)
	rv, _ := oauth2server.Capability[oauth2server.RedirectURIValidator](m)
	rs, _ := oauth2server.Capability[oauth2server.ResourceValidator](m)
	co, _ := oauth2server.Capability[oauth2server.ConsentModel](m)
	cn, _ := oauth2server.Capability[oauth2server.CounterModel](m)
	dm, _ := oauth2server.Capability[oauth2server.DeviceCodeModel](m)
	jm, _ := oauth2server.Capability[oauth2server.RevokedJTIModel](m)
	uc, _ := oauth2server.Capability[oauth2server.UserClaimsModel](m)
	cs, _ := oauth2server.Capability[oauth2server.ClientSecretModel](m)
	ti, _ := oauth2server.Capability[oauth2server.TrustedIssuerModel](m)
	te, _ := oauth2server.Capability[oauth2server.TokenExchangeModel](m)
	cl, _ := oauth2server.Capability[oauth2server.ConsentListModel](m)
	ci, _ := oauth2server.Capability[oauth2server.ConsentLookupModel](m)
	gl, _ := oauth2server.Capability[oauth2server.GrantListModel](m)
	pr, _ := oauth2server.Capability[oauth2server.PushedAuthorizationRequestModel](m)

	tok := &oauth2server.Token{AccessToken: "a", RefreshToken: "r", GrantID: "g"}
	code := &oauth2server.AuthorizationCode{Code: "c"}
	client := &oauth2server.Client{ID: "c"}
	errs := []error{}
	e := func(err error) { errs = append(errs, err) }
	e2 := func(_ any, err error) { e(err) }
	e2(m.GetClient(ctx, "c"))
	e(m.SaveToken(ctx, tok, client, nil))
	e2(at.GetAccessToken(ctx, "a"))
	e2(rt.GetRefreshToken(ctx, "r"))
	e2(rt.RevokeToken(ctx, tok))
	e(gm.RevokeGrant(ctx, "g"))
	e(cm.SaveAuthorizationCode(ctx, code, client, nil))
	e2(cm.GetAuthorizationCode(ctx, "c"))
	e2(cm.RevokeAuthorizationCode(ctx, code))
	e2(cr.RedeemAuthorizationCode(ctx, code, tok, client, nil))
	e2(pm.GetUser(ctx, "u", "p"))
	e2(cu.GetUserFromClient(ctx, client))
	e2(ag.GenerateAccessToken(ctx, client, nil, nil))
	e2(rg.GenerateRefreshToken(ctx, client, nil, nil))
	e2(cg.GenerateAuthorizationCode(ctx, client, nil, nil))
	e2(sv.ValidateScope(ctx, client, nil, nil))
	e2(sf.VerifyScope(ctx, tok, nil))
	e2(rv.ValidateRedirectURI(ctx, "https://c.example/cb", client))
	e2(rs.ValidateResource(ctx, client, "https://rs.example"))
	e2(co.FindConsent(ctx, "c", "u"))
	e(co.SaveConsent(ctx, &oauth2server.Consent{ClientID: "c", UserID: "u"}))
	e(co.RevokeConsent(ctx, "c", "u"))
	e2(cl.ListConsents(ctx, "u", ""))
	e2(ci.GetConsentByID(ctx, "id"))
	e2(gl.ListGrants(ctx, "u", ""))
	e2(cn.AddCounter(ctx, "k", 1, time.Minute, time.Now()))
	e2(cn.GetCounter(ctx, "k", time.Now()))
	e(dm.SaveDeviceCode(ctx, &oauth2server.DeviceCode{DeviceCode: "d", UserCode: "BCDF-GHJK"}))
	e2(dm.GetDeviceCodeByUserCode(ctx, "BCDF-GHJK"))
	e2(dm.SetDeviceDecision(ctx, "BCDF-GHJK", &oauth2server.DeviceDecision{Approved: true, Now: time.Now()}))
	e2(dm.PollDeviceCode(ctx, "d", "c", time.Now()))
	e(dm.RaiseDeviceInterval(ctx, "d", time.Minute))
	e2(dm.ConsumeDeviceCode(ctx, "d"))
	e(jm.RevokeJTI(ctx, "j", time.Now().Add(time.Minute)))
	e2(jm.IsJTIRevoked(ctx, "j"))
	e2(uc.GetUserClaims(ctx, "u"))
	e2(cs.GetClientSecret(ctx, client))
	e2(ti.GetTrustedIssuer(ctx, "https://idp.example"))
	e2(ti.GetSubjectUser(ctx, &oauth2server.TrustedIssuer{Issuer: "https://idp.example"}, "s"))
	e2(te.AuthorizeTokenExchange(ctx, &oauth2server.TokenExchangeRequest{Client: client,
		Subject: &oauth2server.ExchangedToken{Subject: "u"}}))

	e(pr.SavePushedAuthorizationRequest(ctx, &oauth2server.PushedAuthorizationRequest{RequestURI: "p"}))
	e2(pr.GetPushedAuthorizationRequest(ctx, "p"))
	e2(pr.ConsumePushedAuthorizationRequest(ctx, "p"))

	methods := modelobserve.Methods(m)
	require.Len(t, methods, 43, "two methods of Model and 41 of the twenty-six capabilities")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, methods, rec.starts, "Start, once per call, in the order of the calls")
	require.Len(t, rec.calls, len(methods))
	for i, c := range rec.calls {
		assert.Equal(t, methods[i], c.method)
		assert.True(t, c.sawStarted, "%s: End gets the context Start returned", c.method)
		assert.ErrorIs(t, c.err, context.Canceled, "%s: the model got Start's context, End its error", c.method)
		assert.ErrorIs(t, errs[i], context.Canceled, "%s: the caller gets the model's error", c.method)
	}
}

// Wrapping twice reports each call to both observers, the outer first.
func TestWrapTwice(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var order []string
	obs := func(name string) modelobserve.Observer {
		return modelobserve.Func(func(_ context.Context, method string, _ time.Time, _ error) {
			mu.Lock()
			order = append(order, name+" "+method)
			mu.Unlock()
		})
	}
	inner := modelobserve.Wrap(memorymodel.New(), obs("inner"))
	m := modelobserve.Wrap(inner, obs("outer"))
	rt, ok := oauth2server.Capability[oauth2server.RefreshTokenModel](m)
	require.True(t, ok)
	_, err := rt.GetRefreshToken(context.Background(), "nope")
	require.NoError(t, err)
	assert.Equal(t, []string{"inner GetRefreshToken", "outer GetRefreshToken"}, order, "End: the inner call ends first")
	assert.Equal(t, modelobserve.Methods(inner), modelobserve.Methods(m))
}

// mine is a capability oauth2server does not define.
type mine interface {
	Mine(ctx context.Context) error
}

type withMine struct{ *memorymodel.Model }

func (withMine) Mine(context.Context) error { return nil }

// A capability the package does not know stays reachable, unobserved.
func TestWrapUnknownCapability(t *testing.T) {
	t.Parallel()
	var n int
	m := modelobserve.Wrap(withMine{memorymodel.New()}, modelobserve.Func(func(context.Context, string, time.Time, error) { n++ }))
	c, ok := oauth2server.Capability[mine](m)
	require.True(t, ok)
	require.NoError(t, c.Mine(context.Background()))
	assert.Zero(t, n)
	_, isMine := m.(mine)
	assert.False(t, isMine, "not on the wrapper itself")
}

func TestMethods(t *testing.T) {
	t.Parallel()
	mem := memorymodel.New()
	assert.Equal(t, []string{"GetClient", "SaveToken", "GetAccessToken"}, modelobserve.Methods(accessOnly{mem, mem}))
	assert.Equal(t, []string{"GetClient", "SaveToken"}, modelobserve.Methods(onlyCore{mem}))
	assert.Len(t, modelobserve.Methods(mem), 2+1+2+1+3+1+1+1+3+1+1+1+2+6+2+1+1+2+1+3)
}
