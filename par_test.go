package oauth2server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// pushParams is a valid pushed authorization request of a code flow with
// PKCE, for the fixture clients.
func pushParams() url.Values {
	return url.Values{"response_type": {"code"}, "redirect_uri": {testRedirect}, "scope": {"read"},
		"state": {"s-1"}, "code_challenge": {oauth2server.RFC7636Challenge}, "code_challenge_method": {"S256"}}
}

// push sends a pushed authorization request through handlers on Echo, as
// confID with Basic when secret is set, else with client_id in the body.
func (env *testEnv) push(form url.Values, clientID, secret string) answer {
	env.t.Helper()
	if secret == "" {
		form.Set("client_id", clientID)
	}
	r := tokenReq{path: "/par", body: form.Encode()}
	if secret != "" {
		r.auth = basic(clientID, secret)
	}
	return env.do(r)
}

// pushed pushes a request of confID and returns its request_uri.
func (env *testEnv) pushed(form url.Values) string {
	env.t.Helper()
	r := env.push(form, confID, confSecret)
	require.Equal(env.t, http.StatusCreated, r.status, r.raw)
	return str(r.body["request_uri"])
}

// authorizeAt validates an authorization request with the query q.
func (env *testEnv) authorizeAt(q url.Values) (*oauth2server.AuthorizeRequest, error) {
	env.t.Helper()
	return env.srv.ValidateAuthorizeRequest(httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil))
}

// approve approves ar for alice and returns the redirect's query.
func (env *testEnv) approve(ar *oauth2server.AuthorizeRequest) (url.Values, error) {
	env.t.Helper()
	target, err := env.srv.Authorize(context.Background(), ar, &oauth2server.User{ID: aliceID}, oauth2server.Decision{Approved: true})
	if err != nil {
		return nil, err
	}
	u, perr := url.Parse(target)
	require.NoError(env.t, perr)
	assert.Equal(env.t, testRedirect, u.Scheme+"://"+u.Host+u.Path)
	return u.Query(), nil
}

// authorizeErr asserts an *AuthorizeError with the code, shown or
// redirected.
func authorizeErr(t *testing.T, err error, code string, shown bool) *oauth2server.AuthorizeError {
	t.Helper()
	var ae *oauth2server.AuthorizeError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, code, ae.Err.Code, ae.Err.Description)
	assert.Equal(t, shown, ae.ShowToUser(), "shown to the user")
	return ae
}

// the PAR endpoint authenticates the client as
// the token endpoint does, validates every parameter as the authorization
// endpoint would, and answers 201 or the token endpoint's JSON errors.
func TestPushedAuthorizationEndpoint(t *testing.T) {
	t.Parallel()
	with := func(k, v string) url.Values {
		f := pushParams()
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	var testCases = []struct {
		name          string
		givenForm     url.Values
		givenClient   string
		givenSecret   string
		givenAuth     string // a raw Authorization header instead
		whenMethod    string
		expectStatus  int
		expectCode    string
		expectChallng bool
	}{
		{name: "ok, confidential client with Basic", givenForm: pushParams(), givenClient: confID, givenSecret: confSecret,
			expectStatus: http.StatusCreated},
		{name: "ok, public client with client_id and PKCE", givenForm: pushParams(), givenClient: pubID,
			expectStatus: http.StatusCreated},
		{name: "ok, the only registered redirect URI may be left out", givenForm: with("redirect_uri", ""),
			givenClient: confID, givenSecret: confSecret, expectStatus: http.StatusCreated},
		{name: "nok, wrong secret", givenForm: pushParams(), givenClient: confID, givenSecret: "wrong",
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallng: true},
		{name: "nok, unknown client", givenForm: pushParams(), givenClient: "nobody", givenSecret: "x",
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallng: true},
		{name: "nok, no client at all", givenForm: pushParams(),
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallng: true},
		{name: "nok, confidential client without its secret", givenForm: pushParams(), givenClient: confID,
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallng: true},
		{name: "nok, a request_uri inside the push", givenForm: with("request_uri", oauth2server.RequestURIPrefix+"x"),
			givenClient: confID, givenSecret: confSecret, expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		{name: "nok, request object", givenForm: with("request", "eyJ.e30.x"), givenClient: confID, givenSecret: confSecret,
			expectStatus: http.StatusBadRequest, expectCode: "request_not_supported"},
		{name: "nok, unregistered redirect URI", givenForm: with("redirect_uri", "https://evil.example/cb"),
			givenClient: confID, givenSecret: confSecret, expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		{name: "nok, public client without PKCE", givenForm: with("code_challenge", ""), givenClient: pubID,
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		{name: "nok, plain PKCE", givenForm: with("code_challenge_method", "plain"), givenClient: confID, givenSecret: confSecret,
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		{name: "nok, scope beyond the client's", givenForm: with("scope", "read delete"), givenClient: otherID, givenSecret: otherSecret,
			expectStatus: http.StatusBadRequest, expectCode: "invalid_scope"},
		{name: "nok, unknown response type", givenForm: with("response_type", "id_token"), givenClient: confID, givenSecret: confSecret,
			expectStatus: http.StatusBadRequest, expectCode: "unsupported_response_type"},
		{name: "nok, implicit is off", givenForm: with("response_type", "token"), givenClient: confID, givenSecret: confSecret,
			expectStatus: http.StatusBadRequest, expectCode: "unsupported_response_type"},
		{name: "nok, no state", givenForm: with("state", ""), givenClient: confID, givenSecret: confSecret,
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		{name: "nok, client without redirect URIs", givenForm: pushParams(), givenClient: rsID, givenSecret: rsSecret,
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		{name: "nok, client_id of another client beside Basic", givenForm: with("client_id", otherID),
			givenClient: confID, givenSecret: confSecret, expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		{name: "nok, unsupported response_mode", givenForm: with("response_mode", "jwt"), givenClient: confID, givenSecret: confSecret,
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		{name: "nok, GET", givenForm: pushParams(), givenClient: confID, givenSecret: confSecret, whenMethod: http.MethodGet,
			expectStatus: http.StatusMethodNotAllowed, expectCode: "invalid_request"},
		{name: "nok, two Authorization headers", givenForm: pushParams(), givenAuth: basic(confID, confSecret),
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			form := tc.givenForm
			r := tokenReq{path: "/par", method: tc.whenMethod}
			switch {
			case tc.givenAuth != "":
				r.auth, r.auth2 = tc.givenAuth, tc.givenAuth
			case tc.givenSecret != "":
				r.auth = basic(tc.givenClient, tc.givenSecret)
			case tc.givenClient != "":
				form.Set("client_id", tc.givenClient)
			}
			r.body = form.Encode()
			for _, got := range []answer{env.do(r), env.serve(r)} {
				assertNoStore(t, got)
				assert.Equal(t, tc.expectStatus, got.status, got.raw)
				if tc.expectCode != "" {
					requireError(t, got, tc.expectStatus, tc.expectCode, tc.expectChallng)
					assert.NotContains(t, got.body, "request_uri")
					continue
				}
				uri := str(got.body["request_uri"])
				assert.True(t, strings.HasPrefix(uri, oauth2server.RequestURIPrefix), uri)
				// 256 bits, base64url, after the prefix.
				assert.Len(t, strings.TrimPrefix(uri, oauth2server.RequestURIPrefix), 43)
				assert.EqualValues(t, 60, got.body["expires_in"])
				assert.Contains(t, got.header.Get("Content-Type"), "application/json")
			}
		})
	}
}

// What is stored is the validated request: client_id set, no client
// credentials; each push gets its own request_uri.
func TestPushedRequestStored(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	form := pushParams()
	form.Set("client_id", confID)
	form.Set("client_secret", confSecret)
	r := env.do(tokenReq{path: "/par", body: form.Encode()})
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	uri := str(r.body["request_uri"])
	req, err := env.model.GetPushedAuthorizationRequest(context.Background(), uri)
	require.NoError(t, err)
	require.NotNil(t, req)
	assert.Equal(t, confID, req.ClientID)
	assert.Equal(t, env.clock.Now(), req.IssuedAt)
	assert.Equal(t, env.clock.Now().Add(time.Minute), req.ExpiresAt)
	stored, err := url.ParseQuery(req.Parameters)
	require.NoError(t, err)
	assert.Equal(t, confID, stored.Get("client_id"))
	assert.NotContains(t, stored, "client_secret", "credentials are not part of the request")
	assert.Equal(t, "s-1", stored.Get("state"))

	again := env.push(pushParams(), confID, confSecret)
	require.Equal(t, http.StatusCreated, again.status)
	assert.NotEqual(t, uri, again.body["request_uri"])
}

// the authorization endpoint reads a pushed request by its
// request_uri and client_id, ignores the other front-channel parameters,
// and the decision consumes it.
func TestAuthorizeWithPushedRequest(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	uri := env.pushed(pushParams())

	// Parameters beside request_uri are ignored, however they disagree.
	front := url.Values{"client_id": {confID}, "request_uri": {uri}, "scope": {"admin"}, "state": {"forged"},
		"redirect_uri": {"https://evil.example/cb"}, "response_type": {"token"}}
	ar, err := env.authorizeAt(front)
	require.NoError(t, err)
	assert.Equal(t, uri, ar.RequestURI)
	assert.Equal(t, []string{"read"}, ar.Scope)
	assert.Equal(t, "s-1", ar.State)
	assert.Equal(t, testRedirect, ar.RedirectURI)
	assert.Equal(t, oauth2server.RFC7636Challenge, ar.CodeChallenge)
	assert.Equal(t, url.Values{"client_id": {confID}, "request_uri": {uri}}.Encode(), ar.Query(),
		"the consent form posts back the request_uri, not the parameters")
	assert.Equal(t, ar.Query(), ar.LoginReturnQuery())

	// A reload before the decision sees the same request.
	ar2, err := env.authorizeAt(url.Values{"client_id": {confID}, "request_uri": {uri}})
	require.NoError(t, err)
	assert.Equal(t, ar.Params, ar2.Params)

	q, err := env.approve(ar)
	require.NoError(t, err)
	assert.Equal(t, "s-1", q.Get("state"))
	assert.Equal(t, testIssuer, q.Get("iss"))
	code := q.Get("code")
	require.NotEmpty(t, code)

	// Single use: the request_uri is gone, for a new page and for a
	// second decision on a page already shown.
	_, err = env.authorizeAt(url.Values{"client_id": {confID}, "request_uri": {uri}})
	authorizeErr(t, err, "invalid_request_uri", true)
	_, err = env.approve(ar2)
	ae := authorizeErr(t, err, "invalid_request_uri", false)
	assert.Contains(t, ae.RedirectURL(), "state=s-1")

	tok := env.confToken(url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {testRedirect}, "code_verifier": {oauth2server.RFC7636Verifier}})
	requireOK(t, tok)
	assert.Equal(t, "read", tok.body["scope"])
}

// A denial consumes the pushed request too.
func TestDeniedPushedRequestIsConsumed(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	uri := env.pushed(pushParams())
	ar, err := env.authorizeAt(url.Values{"client_id": {confID}, "request_uri": {uri}})
	require.NoError(t, err)
	_, err = env.srv.Authorize(context.Background(), ar, &oauth2server.User{ID: aliceID}, oauth2server.Decision{})
	authorizeErr(t, err, "access_denied", false)
	_, err = env.authorizeAt(url.Values{"client_id": {confID}, "request_uri": {uri}})
	authorizeErr(t, err, "invalid_request_uri", true)
}

// an unknown, expired or foreign request_uri is shown to the
// user, never redirected: no redirect URI was validated.
func TestPushedRequestRefused(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name       string
		givenQuery func(uri string) url.Values
		whenAfter  time.Duration
		expectCode string
	}{
		{"nok, another client's client_id", func(uri string) url.Values {
			return url.Values{"client_id": {otherID}, "request_uri": {uri}}
		}, 0, "invalid_request_uri"},
		{"nok, no client_id", func(uri string) url.Values {
			return url.Values{"request_uri": {uri}}
		}, 0, "invalid_request"},
		{"nok, expired", func(uri string) url.Values {
			return url.Values{"client_id": {confID}, "request_uri": {uri}}
		}, time.Minute, "invalid_request_uri"},
		{"nok, unknown", func(string) url.Values {
			return url.Values{"client_id": {confID}, "request_uri": {oauth2server.RequestURIPrefix + "unknown"}}
		}, 0, "invalid_request_uri"},
		{"nok, not a request_uri of ours", func(string) url.Values {
			return url.Values{"client_id": {confID}, "request_uri": {"https://client.example/request.jwt"}}
		}, 0, "invalid_request_uri"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			uri := env.pushed(pushParams())
			env.clock.Advance(tc.whenAfter)
			_, err := env.authorizeAt(tc.givenQuery(uri))
			authorizeErr(t, err, tc.expectCode, true)
		})
	}
}

// of concurrent decisions on one pushed request, one issues a code.
func TestPushedRequestConcurrentDecisions(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	uri := env.pushed(pushParams())
	const n = 16
	ars := make([]*oauth2server.AuthorizeRequest, n)
	for i := range ars {
		var err error
		ars[i], err = env.authorizeAt(url.Values{"client_id": {confID}, "request_uri": {uri}})
		require.NoError(t, err)
	}
	var codes atomic.Int32
	var wg sync.WaitGroup
	for _, ar := range ars {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target, err := env.srv.Authorize(context.Background(), ar, &oauth2server.User{ID: aliceID},
				oauth2server.Decision{Approved: true})
			if err == nil && strings.Contains(target, "code=") {
				codes.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 1, codes.Load())
}

// revalidating changes the fixture client confID after a push: its
// redirect URIs are dropped when dropRedirects is set.
type revalidating struct {
	*memorymodel.Model
	dropRedirects atomic.Bool
}

func (m *revalidating) GetClient(ctx context.Context, id string) (*oauth2server.Client, error) {
	c, err := m.Model.GetClient(ctx, id)
	if c != nil && m.dropRedirects.Load() {
		c.RedirectURIs = nil
	}
	return c, err
}

// a pushed request is validated again at the authorization
// endpoint, against the client's registration of now.
func TestPushedRequestRevalidated(t *testing.T) {
	t.Parallel()
	var rm *revalidating
	env := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model {
		rm = &revalidating{Model: m}
		return rm
	}))
	uri := env.pushed(pushParams())
	rm.dropRedirects.Store(true)
	_, err := env.authorizeAt(url.Values{"client_id": {confID}, "request_uri": {uri}})
	authorizeErr(t, err, "invalid_request", true)
}

// with PAR.Require, or RequirePushedAuthorizationRequests on the
// client, a front-channel request is refused with invalid_request,
// redirected to the validated redirect URI.
func TestRequirePushedAuthorizationRequests(t *testing.T) {
	t.Parallel()
	front := func() url.Values {
		q := pushParams()
		q.Set("client_id", confID)
		return q
	}
	t.Run("nok, server-wide", func(t *testing.T) {
		env := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.PAR.Require = true }))
		_, err := env.authorizeAt(front())
		ae := authorizeErr(t, err, "invalid_request", false)
		assert.Contains(t, ae.RedirectURL(), "state=s-1")
		uri := env.pushed(pushParams())
		ar, err := env.authorizeAt(url.Values{"client_id": {confID}, "request_uri": {uri}})
		require.NoError(t, err)
		_, err = env.approve(ar)
		require.NoError(t, err)
		m, err := env.srv.Metadata(oauth2server.Endpoints{PushedAuthorization: testIssuer + "/par"})
		require.NoError(t, err)
		assert.True(t, m.RequirePushedAuthorizationRequests)
		assert.Equal(t, testIssuer+"/par", m.PushedAuthorizationRequestEndpoint)
	})
	t.Run("nok, per client", func(t *testing.T) {
		env := newTestEnv(t)
		require.NoError(t, env.model.AddClient(context.Background(), &oauth2server.Client{ID: "par-only",
			SecretHash: oauth2server.HashSecret(confSecret), RedirectURIs: []string{testRedirect},
			Grants: []string{oauth2server.GrantAuthorizationCode}, Scopes: []string{"read"},
			RequirePushedAuthorizationRequests: true}))
		q := front()
		q.Set("client_id", "par-only")
		_, err := env.authorizeAt(q)
		authorizeErr(t, err, "invalid_request", false)
		_, err = env.authorizeAt(front())
		require.NoError(t, err, "other clients are not affected")
		r := env.push(pushParams(), "par-only", confSecret)
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		_, err = env.authorizeAt(url.Values{"client_id": {"par-only"}, "request_uri": {str(r.body["request_uri"])}})
		require.NoError(t, err)
		m, err := env.srv.Metadata(oauth2server.Endpoints{PushedAuthorization: testIssuer + "/par"})
		require.NoError(t, err)
		assert.False(t, m.RequirePushedAuthorizationRequests)
	})
}

// Without PushedAuthorizationRequestModel, request_uri is not supported,
// the endpoint refuses, and PAR.Require is a configuration error.
func TestPushedRequestsNeedTheModel(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return noPushModel{m} }))
	assert.False(t, env.srv.PushedAuthorizationEnabled())
	q := pushParams()
	q.Set("client_id", confID)
	q.Set("request_uri", oauth2server.RequestURIPrefix+"x")
	_, err := env.authorizeAt(q)
	authorizeErr(t, err, "request_uri_not_supported", false)
	r := env.serve(tokenReq{path: "/par", body: pushParams().Encode(), auth: basic(confID, confSecret)})
	requireError(t, r, http.StatusBadRequest, "invalid_request", false)
	_, err = env.srv.Metadata(oauth2server.Endpoints{PushedAuthorization: testIssuer + "/par"})
	assert.ErrorContains(t, err, "PAR endpoint")

	_, err = oauth2server.New(noPushModel{memorymodel.New()}, oauth2server.Options{PAR: oauth2server.PAROptions{Require: true}})
	assert.ErrorContains(t, err, "PushedAuthorizationRequestModel")

	// A client that must push is refused, not let through, by a server
	// that cannot take pushed requests.
	require.NoError(t, env.model.AddClient(context.Background(), &oauth2server.Client{ID: "par-only",
		RedirectURIs: []string{testRedirect}, Grants: []string{oauth2server.GrantAuthorizationCode},
		SecretHash: oauth2server.HashSecret(confSecret), RequirePushedAuthorizationRequests: true}))
	q.Del("request_uri")
	q.Set("client_id", "par-only")
	_, err = env.authorizeAt(q)
	authorizeErr(t, err, "invalid_request", false)
}

// noPushModel is the memorymodel without PushedAuthorizationRequestModel.
type noPushModel struct{ *memorymodel.Model }

func (noPushModel) SavePushedAuthorizationRequest() {}

// the lifetime is configurable within bounds, and expires_in says it.
func TestPushedRequestLifetime(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.PAR.Lifetime = 90 * time.Second }))
	r := env.push(pushParams(), confID, confSecret)
	require.Equal(t, http.StatusCreated, r.status)
	assert.EqualValues(t, 90, r.body["expires_in"])
	uri := str(r.body["request_uri"])
	env.clock.Advance(89 * time.Second)
	_, err := env.authorizeAt(url.Values{"client_id": {confID}, "request_uri": {uri}})
	require.NoError(t, err)
	env.clock.Advance(time.Second)
	_, err = env.authorizeAt(url.Values{"client_id": {confID}, "request_uri": {uri}})
	authorizeErr(t, err, "invalid_request_uri", true)

	for _, d := range []time.Duration{-time.Second, 11 * time.Minute} {
		_, err := oauth2server.New(memorymodel.New(), oauth2server.Options{PAR: oauth2server.PAROptions{Lifetime: d}})
		assert.ErrorContains(t, err, "PAR.Lifetime", d)
	}
}

// A login after the push satisfies prompt=login and max_age=0 of a pushed
// OpenID Connect request, which come back from the login page unchanged.
func TestPushedRequestLogin(t *testing.T) {
	t.Parallel()
	e := newOIDCEnv(t, nil)
	form := pushParams()
	form.Set("scope", "openid")
	form.Set("prompt", "login")
	r := e.push(form, rpID, rpSecret)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	uri := str(r.body["request_uri"])
	pushedAt := e.clock.Now()
	e.clock.Advance(10 * time.Second)
	ar, err := e.authorizeAt(url.Values{"client_id": {rpID}, "request_uri": {uri}})
	require.NoError(t, err)
	alice := &oauth2server.User{ID: aliceID}
	need, err := e.srv.CheckLogin(ar, alice, oauth2server.Authentication{Time: pushedAt.Add(-time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, oauth2server.InteractionLogin, need, "an older login does not do")
	need, err = e.srv.CheckLogin(ar, alice, oauth2server.Authentication{Time: pushedAt.Add(5 * time.Second).Truncate(time.Second)})
	require.NoError(t, err)
	assert.Equal(t, oauth2server.InteractionNone, need, "a login after the push does")
	assert.Equal(t, url.Values{"client_id": {rpID}, "request_uri": {uri}}.Encode(), ar.LoginReturnQuery())
}

// public clients push without a credential, so their pushes
// are capped per address and per client within the request lifetime;
// above a cap the answer is 429 slow_down with Retry-After and nothing is
// stored. A confidential client's pushes are not capped, an invalid push
// costs no budget, and a window's end frees the address again.
func TestPushedRequestsOfPublicClientsCapped(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
		o.PAR.MaxPendingPerAddress = 3
		o.PAR.MaxPendingPerClient = 5
	}))
	bad := pushParams()
	bad.Set("code_challenge", "")
	for range 4 {
		require.Equal(t, http.StatusBadRequest, env.push(bad, pubID, "").status, "an invalid push stores and charges nothing")
	}
	for i := range 3 {
		r := env.push(pushParams(), pubID, "")
		require.Equal(t, http.StatusCreated, r.status, "push %d: %s", i, r.raw)
	}
	r := env.push(pushParams(), pubID, "")
	require.Equal(t, http.StatusTooManyRequests, r.status, r.raw)
	assert.Equal(t, "slow_down", r.errorCode())
	assert.NotEmpty(t, r.header.Get("Retry-After"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))

	for range 5 {
		require.Equal(t, http.StatusCreated, env.push(pushParams(), confID, confSecret).status, "authenticated pushes are not capped")
	}
	env.clock.Advance(time.Minute)
	require.Equal(t, http.StatusCreated, env.push(pushParams(), pubID, "").status, "a new window")
}
