package handlers_test

import (
	"context"
	"errors"
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
	"github.com/labstack/echo/v4/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/handlers"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// Errors about the client or the redirect URI are shown to the user and
// never redirected, whatever else the request carries. R-33
func TestAuthorizeShownErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		whenQuery   string
		expectCode  string
		expectInBod string
	}{
		{"nok, no client_id", "response_type=code&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&state=s",
			"invalid_request", "The client_id parameter is missing."},
		{"nok, unknown client_id", "response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&state=s",
			"invalid_request", "The client_id is not registered."},
		// a repeated client_id or redirect_uri cannot be trusted.
		{"nok, repeated client_id", "response_type=code&client_id=conf&client_id=pub&state=s",
			"invalid_request", "The request repeats a parameter."},
		{"nok, repeated redirect_uri", "response_type=code&client_id=conf&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&redirect_uri=https%3A%2F%2Fevil.example%2F&state=s",
			"invalid_request", "The request repeats a parameter."},
		{"nok, malformed escape", "response_type=code&client_id=conf&state=%zz",
			"invalid_request", "not valid application/x-www-form-urlencoded"},
		{"nok, invalid UTF-8 in client_id", "response_type=code&client_id=%ff&state=s",
			"invalid_request", "The request parameters are not valid application/x-www-form-urlencoded UTF-8."},
		//
		{"nok, redirect_uri not registered", "response_type=code&client_id=conf&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=s",
			"invalid_request", "The redirect_uri is not registered for this client."},
		//
		{"nok, redirect_uri missing with two registered", "response_type=code&client_id=two&state=s",
			"invalid_request", "The redirect_uri parameter is required for this client."},
		//
		{"nok, redirect_uri missing with none registered", "response_type=code&client_id=none&state=s",
			"invalid_request", "The redirect_uri parameter is required for this client."},
		{"nok, redirect_uri given with none registered", "response_type=code&client_id=none&redirect_uri=https%3A%2F%2Fclient.example%2Fcb&state=s",
			"invalid_request", "The redirect_uri is not registered for this client."},
		//
		{"nok, redirect_uri with fragment", "response_type=code&client_id=conf&redirect_uri=https%3A%2F%2Fclient.example%2Fcb%23f&state=s",
			"invalid_request", "The redirect_uri must be an absolute URI without fragment."},
		{"nok, relative redirect_uri", "response_type=code&client_id=conf&redirect_uri=%2Fcb&state=s",
			"invalid_request", "The redirect_uri must be an absolute URI without fragment."},
		//
		{"nok, http redirect_uri registered for non-loopback", "response_type=code&client_id=badreg&redirect_uri=http%3A%2F%2Fclient.example%2Fcb&state=s",
			"invalid_request", "http is allowed only for loopback IP addresses."},
		{"nok, default registered redirect URI is invalid", "response_type=code&client_id=badreg&state=s",
			"invalid_request", "The redirect URI registered for this client is invalid."},
		{"nok, javascript scheme", "response_type=code&client_id=conf&redirect_uri=javascript%3Aalert(1)&state=s",
			"invalid_request", "The redirect_uri must be an absolute URI without fragment."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				// Logged in or not, GET or POST: never a redirect.
				for _, user := range []string{"", "alice"} {
					var body url.Values
					if method == http.MethodPost {
						body = url.Values{"decision": {"approve"}}
					}
					rec := f.do(method, "/authorize?"+tc.whenQuery, user, body)
					assertShown(t, rec, http.StatusBadRequest, tc.expectCode)
					assert.Contains(t, rec.Body.String(), tc.expectInBod)
				}
			}
		})
	}
}

// Every other error is redirected, with error, error_description, state
// and iss, once the user is logged in.,
//
func TestAuthorizeRedirectedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		givenOptions  oauth2server.Options
		whenQuery     string
		expectLocBase string
		expectCode    string
		expectDesc    string
		expectState   string
	}{
		{name: "nok, response_type missing", whenQuery: codeQuery("response_type", "").Encode(),
			expectCode: "invalid_request", expectDesc: "The response_type parameter is missing.", expectState: "xyz"},
		{name: "nok, response_type unknown", whenQuery: codeQuery("response_type", "id_token").Encode(),
			expectCode: "unsupported_response_type", expectDesc: "The response_type is not supported.", expectState: "xyz"},
		{name: "nok, response_type code token", whenQuery: codeQuery("response_type", "code token").Encode(),
			expectCode: "unsupported_response_type", expectDesc: "The response_type is not supported.", expectState: "xyz"},
		// implicit is off by default.
		{name: "nok, response_type token when implicit is off", whenQuery: codeQuery("response_type", "token").Encode(),
			expectCode: "unsupported_response_type", expectDesc: "The response_type is not supported.", expectState: "xyz"},
		{name: "nok, client may not use the code grant", whenQuery: codeQuery("client_id", "cc").Encode(),
			expectCode: "unauthorized_client", expectDesc: "The client is not authorized to use this response type.", expectState: "xyz"},
		{name: "nok, state missing", whenQuery: codeQuery("state", "").Encode(),
			expectCode: "invalid_request", expectDesc: "The state parameter is required."},
		{name: "nok, scope outside the client's", whenQuery: codeQuery("scope", "read admin").Encode(),
			expectCode: "invalid_scope", expectDesc: "The requested scope exceeds the scope registered for the client.", expectState: "xyz"},
		{name: "nok, scope malformed", whenQuery: codeQuery("scope", `read "x"`).Encode(),
			expectCode: "invalid_scope", expectDesc: "The scope parameter is malformed.", expectState: "xyz"},
		//
		{name: "nok, public client without code_challenge", expectLocBase: pubRedirect,
			whenQuery:  codeQuery("client_id", "pub", "redirect_uri", pubRedirect).Encode(),
			expectCode: "invalid_request", expectDesc: "A code_challenge is required (RFC 7636 section 4.4.1).", expectState: "xyz"},
		{name: "nok, RequirePKCE and a confidential client without code_challenge", givenOptions: oauth2server.Options{RequirePKCE: true},
			whenQuery:  codeQuery().Encode(),
			expectCode: "invalid_request", expectDesc: "A code_challenge is required (RFC 7636 section 4.4.1).", expectState: "xyz"},
		// plain is refused unless allowed; absent method means plain.
		{name: "nok, code_challenge_method plain", whenQuery: codeQuery("code_challenge", testChallenge, "code_challenge_method", "plain").Encode(),
			expectCode: "invalid_request", expectDesc: "The code_challenge_method is not supported; use S256.", expectState: "xyz"},
		{name: "nok, code_challenge without method is plain", whenQuery: codeQuery("code_challenge", testChallenge).Encode(),
			expectCode: "invalid_request", expectDesc: "The code_challenge_method is not supported; use S256.", expectState: "xyz"},
		{name: "nok, code_challenge_method unknown", whenQuery: codeQuery("code_challenge", testChallenge, "code_challenge_method", "S512").Encode(),
			expectCode: "invalid_request", expectDesc: "The code_challenge_method is not supported; use S256.", expectState: "xyz"},
		{name: "nok, code_challenge too short", whenQuery: codeQuery("code_challenge", "abc", "code_challenge_method", "S256").Encode(),
			expectCode: "invalid_request", expectDesc: "The code_challenge is malformed (RFC 7636 section 4.2).", expectState: "xyz"},
		{name: "nok, code_challenge with a bad character", whenQuery: codeQuery("code_challenge", strings.Repeat("a", 42)+"+", "code_challenge_method", "S256").Encode(),
			expectCode: "invalid_request", expectDesc: "The code_challenge is malformed (RFC 7636 section 4.2).", expectState: "xyz"},
		{name: "nok, code_challenge_method without challenge", whenQuery: codeQuery("code_challenge_method", "S256").Encode(),
			expectCode: "invalid_request", expectDesc: "A code_challenge_method was sent without code_challenge.", expectState: "xyz"},
		// other repeated parameters are redirected; a repeated
		// state cannot be echoed.
		{name: "nok, repeated scope", whenQuery: codeQuery().Encode() + "&scope=write",
			expectCode: "invalid_request", expectDesc: "The request repeats a parameter.", expectState: "xyz"},
		{name: "nok, repeated state", whenQuery: codeQuery().Encode() + "&state=other",
			expectCode: "invalid_request", expectDesc: "The request repeats a parameter."},
		{name: "nok, bad escape in another parameter", whenQuery: codeQuery().Encode() + "&nonce=%ff",
			expectCode: "invalid_request", expectDesc: "The request parameters are not valid application/x-www-form-urlencoded UTF-8.", expectState: "xyz"},
		// an empty value counts as absent, so it is no repeat.
		{name: "nok, empty duplicate is ignored", whenQuery: codeQuery("state", "").Encode() + "&state=",
			expectCode: "invalid_request", expectDesc: "The state parameter is required."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.givenOptions, handlers.AuthorizeConfig{})
			base := confRedirect
			if tc.expectLocBase != "" {
				base = tc.expectLocBase
			}
			want := errLocation(base, tc.expectCode, tc.expectDesc, tc.expectState)

			rec := f.do(http.MethodGet, "/authorize?"+tc.whenQuery, "alice", nil)
			assert.Equal(t, http.StatusFound, rec.Code, rec.Body.String())
			assert.Equal(t, want, rec.Header().Get("Location"))
			assertPageHeaders(t, rec)

			// after a POST, 303.
			rec = f.do(http.MethodPost, "/authorize?"+tc.whenQuery, "alice", url.Values{"decision": {"approve"}})
			assert.Equal(t, http.StatusSeeOther, rec.Code)
			assert.Equal(t, want, rec.Header().Get("Location"))

			// no redirect, not even of an error, before the user
			// logged in.
			rec = f.do(http.MethodGet, "/authorize?"+tc.whenQuery, "", nil)
			assertShown(t, rec, http.StatusUnauthorized, "login_required")
		})
	}
}

// A bad redirect URI never yields a Location pointing at it, however close
// it is to the registered one.
func TestAuthorizeOpenRedirect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		client   string
		redirect string
	}{
		{"nok, scheme in upper case", "conf", "HTTPS://client.example/cb"},
		{"nok, host in upper case", "conf", "https://CLIENT.example/cb"},
		{"nok, trailing slash", "conf", "https://client.example/cb/"},
		{"nok, extra path", "conf", "https://client.example/cb/extra"},
		{"nok, path traversal", "conf", "https://client.example/cb/../evil"},
		{"nok, extra query", "conf", "https://client.example/cb?x=1"},
		{"nok, empty query", "conf", "https://client.example/cb?"},
		{"nok, userinfo", "conf", "https://client.example@evil.example/cb"},
		{"nok, userinfo before registered host", "conf", "https://evil@client.example/cb"},
		{"nok, fragment", "conf", "https://client.example/cb#x"},
		{"nok, encoded path", "conf", "https://client.example/%63b"},
		{"nok, encoded slash", "conf", "https://client.example%2Fcb"},
		{"nok, http instead of https", "conf", "http://client.example/cb"},
		{"nok, explicit default port", "conf", "https://client.example:443/cb"},
		{"nok, suffix host", "conf", "https://client.example.evil.example/cb"},
		{"nok, registered URI inside another", "conf", "https://evil.example/?https://client.example/cb"},
		{"nok, scheme-relative", "conf", "//client.example/cb"},
		{"nok, whitespace", "conf", " https://client.example/cb"},
		{"nok, CRLF injection", "conf", "https://client.example/cb\r\nSet-Cookie: a=b"},
		// the loopback port exception is for public clients only.
		{"nok, loopback port change for a confidential client", "loopconf", "http://127.0.0.1:9999/cb"},
		{"nok, loopback without port for a confidential client", "loopconf", "http://127.0.0.1/cb"},
		{"nok, public loopback other path", "pub", "http://127.0.0.1:9999/cb2"},
		{"nok, public loopback userinfo", "pub", "http://127.0.0.1:9999@evil.example/cb"},
		{"nok, public loopback host suffix", "pub", "http://127.0.0.1.evil.example/cb"},
		{"nok, public loopback other literal", "pub", "http://[::1]:9999/cb"},
		{"nok, public localhost", "pub", "http://localhost:9999/cb"},
		{"nok, public loopback https", "pub", "https://127.0.0.1:9999/cb"},
		{"nok, public loopback bad port", "pub", "http://127.0.0.1:99999999/cb"},
		{"nok, public loopback empty port", "pub", "http://127.0.0.1:/cb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
			valid := codeQuery("client_id", tc.client, "redirect_uri", tc.redirect,
				"code_challenge", testChallenge, "code_challenge_method", "S256")
			// Once valid otherwise, once with a redirectable error.
			for _, q := range []url.Values{valid, codeQuery("client_id", tc.client, "redirect_uri", tc.redirect, "response_type", "")} {
				rec := f.do(http.MethodGet, "/authorize?"+q.Encode(), "alice", nil)
				assertShown(t, rec, http.StatusBadRequest, "invalid_request")
				assert.NotContains(t, rec.Body.String(), "evil")
			}
			rec := f.do(http.MethodPost, "/authorize?"+valid.Encode(), "alice", url.Values{"decision": {"approve"}})
			assertShown(t, rec, http.StatusBadRequest, "invalid_request")
		})
	}
}

// The loopback redirect of a public client may use any port, as RFC 8252
// §7.3 requires; everything else of it must match. R-30
func TestAuthorizeLoopbackPort(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	for _, redirect := range []string{"http://127.0.0.1:51004/cb", "http://127.0.0.1/cb", "http://127.0.0.1:1/cb"} {
		q := codeQuery("client_id", "pub", "redirect_uri", redirect, "code_challenge", testChallenge, "code_challenge_method", "S256")
		rec := f.approve(q, "alice")
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		assert.True(t, strings.HasPrefix(rec.Header().Get("Location"), redirect+"?code="), rec.Header().Get("Location"))
	}
}

// Success: a code bound to the client, the redirect URI, the user, the
// scope and the PKCE challenge, with a short lifetime.,
//
func TestAuthorizeApprove(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{AuthorizationCodeLifetime: 2 * time.Minute}, handlers.AuthorizeConfig{})
	q := codeQuery("code_challenge", testChallenge, "code_challenge_method", "S256")
	rec := f.approve(q, "alice")
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	assertPageHeaders(t, rec)
	loc, err := url.Parse(rec.Header().Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, confRedirect, loc.Scheme+"://"+loc.Host+loc.Path)
	got := loc.Query()
	assert.Equal(t, []string{"code", "iss", "state"}, sortedKeys(got))
	assert.Equal(t, "xyz", got.Get("state"))
	assert.Equal(t, testIssuer, got.Get("iss"))
	assert.GreaterOrEqual(t, len(got.Get("code")), 43, "256-bit code")

	code, err := f.model.GetAuthorizationCode(context.Background(), got.Get("code"))
	require.NoError(t, err)
	require.NotNil(t, code)
	assert.Equal(t, "conf", code.ClientID)
	assert.Equal(t, "alice", code.UserID)
	assert.Equal(t, confRedirect, code.RedirectURI)
	assert.Equal(t, []string{"read"}, code.Scope)
	assert.Equal(t, testChallenge, code.CodeChallenge)
	assert.Equal(t, "S256", code.CodeChallengeMethod)
	assert.Equal(t, testNow.Add(2*time.Minute), code.ExpiresAt)
	assert.NotEmpty(t, code.GrantID)
	assert.False(t, code.Revoked)
}

func sortedKeys(v url.Values) []string {
	var out []string
	for k := range v {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// Without redirect_uri in the request, the only registered URI is used and
// the code remembers that none was sent.
func TestAuthorizeDefaultRedirectURI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	rec := f.approve(codeQuery("redirect_uri", ""), "alice")
	require.Equal(t, http.StatusSeeOther, rec.Code)
	loc, _ := url.Parse(rec.Header().Get("Location"))
	code, err := f.model.GetAuthorizationCode(context.Background(), loc.Query().Get("code"))
	require.NoError(t, err)
	require.NotNil(t, code)
	assert.Empty(t, code.RedirectURI)
}

// The registered URI's query is kept, in success and error responses. R-31
func TestAuthorizeRegisteredQueryKept(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	q := codeQuery("client_id", "query", "redirect_uri", queryRedir)
	rec := f.approve(q, "alice")
	require.Equal(t, http.StatusSeeOther, rec.Code)
	loc := rec.Header().Get("Location")
	assert.True(t, strings.HasPrefix(loc, queryRedir+"&code="), loc)
	assert.True(t, strings.HasSuffix(loc, "&iss=https%3A%2F%2Fas.example&state=xyz"), loc)

	rec = f.do(http.MethodGet, "/authorize?"+codeQuery("client_id", "query", "redirect_uri", queryRedir, "scope", "admin").Encode(), "alice", nil)
	assert.Equal(t, errLocation(queryRedir, "invalid_scope", "The requested scope exceeds the scope registered for the client.", "xyz"),
		rec.Header().Get("Location"))
}

// state comes back exactly as sent, in success and error responses.
func TestAuthorizeStateRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	for _, state := range []string{
		"a b&c=d#e?f/g%20h+i", "é✓ 日本", `<script>alert("x")</script>`, "'\"\\;", strings.Repeat("s", 500), "=&=&",
	} {
		rec := f.approve(codeQuery("state", state), "alice")
		require.Equal(t, http.StatusSeeOther, rec.Code)
		loc, err := url.Parse(rec.Header().Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, []string{state}, loc.Query()["state"])

		rec = f.do(http.MethodGet, "/authorize?"+codeQuery("state", state, "scope", "admin").Encode(), "alice", nil)
		loc, err = url.Parse(rec.Header().Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, []string{state}, loc.Query()["state"])
		assert.Equal(t, "invalid_scope", loc.Query().Get("error"))
	}
}

// The user's decision: deny, narrowed scope, an empty grant, a grant beyond
// the request.
func TestAuthorizeDecision(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		givenForm   url.Values
		expectCode  string
		expectDesc  string
		expectScope []string
	}{
		{name: "ok, approve everything", givenForm: url.Values{"decision": {"approve"}}, expectScope: []string{"read", "write"}},
		{name: "ok, approve a narrower scope", givenForm: url.Values{"decision": {"approve"}, "scope": {"write"}}, expectScope: []string{"write"}},
		{name: "ok, approve with checkboxes", givenForm: url.Values{"decision": {"approve"}, "scope": {"", "read", "write"}}, expectScope: []string{"read", "write"}},
		{name: "nok, deny", givenForm: url.Values{"decision": {"deny"}, "scope": {"read"}},
			expectCode: "access_denied", expectDesc: "The resource owner denied the request."},
		{name: "nok, every box unticked", givenForm: url.Values{"decision": {"approve"}, "scope": {""}},
			expectCode: "access_denied", expectDesc: "The resource owner denied the request."},
		{name: "nok, scope beyond the request", givenForm: url.Values{"decision": {"approve"}, "scope": {"read admin"}},
			expectCode: "invalid_scope", expectDesc: "The granted scope exceeds the scope of the request."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
			q := codeQuery("scope", "read write")
			action, token := f.consent(q, "alice")
			tc.givenForm.Set("csrf_token", token)
			rec := f.do(http.MethodPost, "/authorize"+action, "alice", tc.givenForm)
			require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
			if tc.expectCode != "" {
				assert.Equal(t, errLocation(confRedirect, tc.expectCode, tc.expectDesc, "xyz"), rec.Header().Get("Location"))
				return
			}
			loc, _ := url.Parse(rec.Header().Get("Location"))
			code, err := f.model.GetAuthorizationCode(context.Background(), loc.Query().Get("code"))
			require.NoError(t, err)
			require.NotNil(t, code)
			assert.Equal(t, tc.expectScope, code.Scope)
		})
	}
}

// The consent form is protected against CSRF: the token is bound to the
// user, the exact request and a time window.
func TestAuthorizeCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{CSRFMaxAge: 10 * time.Minute})
	q := codeQuery()
	action, token := f.consent(q, "alice")
	otherAction, _ := f.consent(codeQuery("scope", "write"), "alice")

	tests := []struct {
		name    string
		user    string
		action  string
		form    url.Values
		advance time.Duration
	}{
		{name: "nok, no token", user: "alice", action: action, form: url.Values{"decision": {"approve"}}},
		{name: "nok, forged token", user: "alice", action: action, form: url.Values{"decision": {"approve"}, "csrf_token": {"1741064767.AAAA"}}},
		{name: "nok, garbage token", user: "alice", action: action, form: url.Values{"decision": {"approve"}, "csrf_token": {"garbage"}}},
		{name: "nok, bad time in token", user: "alice", action: action, form: url.Values{"decision": {"approve"}, "csrf_token": {"x." + strings.SplitN(token, ".", 2)[1]}}},
		{name: "nok, bad base64 in token", user: "alice", action: action, form: url.Values{"decision": {"approve"}, "csrf_token": {strings.SplitN(token, ".", 2)[0] + ".!!"}}},
		{name: "nok, two tokens", user: "alice", action: action, form: url.Values{"decision": {"approve"}, "csrf_token": {token, token}}},
		{name: "nok, another user", user: "mallory", action: action, form: url.Values{"decision": {"approve"}, "csrf_token": {token}}},
		{name: "nok, another request", user: "alice", action: otherAction, form: url.Values{"decision": {"approve"}, "csrf_token": {token}}},
		{name: "nok, expired", user: "alice", action: action, form: url.Values{"decision": {"approve"}, "csrf_token": {token}}, advance: 11 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			*f.now = testNow.Add(tc.advance)
			defer func() { *f.now = testNow }()
			rec := f.do(http.MethodPost, "/authorize"+tc.action, tc.user, tc.form)
			assertShown(t, rec, http.StatusForbidden, "invalid_request")
			assert.Contains(t, rec.Body.String(), "The consent form is invalid or expired.")
		})
	}
	t.Run("ok, the same request reordered and re-escaped", func(t *testing.T) {
		// The browser may send the query differently; the binding is to
		// the parameters, not to their spelling.
		reordered := "/authorize?state=xyz&scope=read&redirect_uri=" + url.QueryEscape(confRedirect) + "&client_id=conf&response_type=%63ode"
		rec := f.do(http.MethodPost, reordered, "alice", url.Values{"decision": {"approve"}, "csrf_token": {token}})
		assert.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		assertCodeRedirect(t, http.StatusSeeOther, rec, confRedirect, "xyz")
	})
}

// A broken consent form is an error page, not a redirect.
func TestAuthorizeBadConsentForm(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	action, token := f.consent(codeQuery(), "alice")
	for name, form := range map[string]url.Values{
		"nok, no decision":      {"csrf_token": {token}},
		"nok, unknown decision": {"csrf_token": {token}, "decision": {"maybe"}},
		"nok, two decisions":    {"csrf_token": {token}, "decision": {"approve", "deny"}},
	} {
		t.Run(name, func(t *testing.T) {
			rec := f.do(http.MethodPost, "/authorize"+action, "alice", form)
			assertShown(t, rec, http.StatusBadRequest, "invalid_request")
			assert.Contains(t, rec.Body.String(), "The consent form did not carry a valid decision.")
		})
	}
	t.Run("nok, JSON body", func(t *testing.T) {
		req := f.do(http.MethodPost, "/authorize"+action, "alice", nil)
		assertShown(t, req, http.StatusBadRequest, "invalid_request")
	})
	t.Run("nok, malformed body", func(t *testing.T) {
		rec := f.doRaw(http.MethodPost, "/authorize"+action, "alice", "application/x-www-form-urlencoded", "decision=%zz")
		assertShown(t, rec, http.StatusBadRequest, "invalid_request")
	})
	t.Run("nok, body too large", func(t *testing.T) {
		rec := f.doRaw(http.MethodPost, "/authorize"+action, "alice", "application/x-www-form-urlencoded", "x="+strings.Repeat("a", 70<<10))
		assertShown(t, rec, http.StatusBadRequest, "invalid_request")
	})
}

// The consent page: what it shows, its form, its headers; no CORS even
// behind a CORS middleware.
func TestAuthorizeConsentPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	f.e.Use(middleware.CORSWithConfig(middleware.CORSConfig{AllowOrigins: []string{"*"}}))
	h := handlers.AuthorizeWithConfig(handlers.AuthorizeConfig{Server: f.srv, UserFromRequest: userFromHeader})
	f.e.GET("/cors/authorize", h)

	req := codeQuery("scope", "read write", "state", `<b>"x"</b>`).Encode()
	rec := f.doWithOrigin(http.MethodGet, "/cors/authorize?"+req, "alice")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assertPageHeaders(t, rec)
	assert.Equal(t, "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
		rec.Header().Get("Content-Security-Policy"))
	body := rec.Body.String()
	assert.Contains(t, body, "Authorize conf")
	assert.Contains(t, body, "<li>read</li>")
	assert.Contains(t, body, "<li>write</li>")
	assert.Contains(t, body, "Signed in as <strong>alice</strong>")
	assert.NotContains(t, body, `<b>"x"</b>`, "html/template escapes request input")
	action, token := pageForm(t, body)
	assert.True(t, strings.HasPrefix(action, "?"), action)
	assert.NotEmpty(t, token)
}

// A custom page gets the request, the user, the action and the token.
func TestAuthorizeCustomRender(t *testing.T) {
	t.Parallel()
	var got *handlers.ConsentPage
	cfg := handlers.AuthorizeConfig{Render: func(c echo.Context, p *handlers.ConsentPage) error {
		got = p
		return c.String(http.StatusOK, "custom")
	}}
	f := newFixture(t, oauth2server.Options{}, cfg)
	rec := f.do(http.MethodGet, "/authorize?"+codeQuery("scope", "read").Encode(), "bob", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assertPageHeaders(t, rec)
	require.NotNil(t, got)
	assert.Equal(t, "conf", got.Request.Client.ID)
	assert.Equal(t, []string{"read"}, got.Request.Scope)
	assert.Equal(t, []string{"read"}, got.Request.RequestedScope)
	assert.Equal(t, confRedirect, got.Request.RedirectURI)
	assert.Equal(t, "xyz", got.Request.State)
	assert.Equal(t, "code", got.Request.ResponseType)
	assert.Equal(t, "bob", got.User.ID)
	assert.Equal(t, "?"+codeQuery("scope", "read").Encode(), got.Action)
	assert.NotEmpty(t, got.CSRFToken)
}

// No user: the hook decides; RedirectToLogin sends the user to the login
// page with the way back. R-34
func TestAuthorizeLoginRequired(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{LoginRequired: handlers.RedirectToLogin("/login")})
	target := "/authorize?" + codeQuery().Encode()
	rec := f.do(http.MethodGet, target, "", nil)
	assert.Equal(t, http.StatusFound, rec.Code)
	assert.Equal(t, "/login?return_to="+url.QueryEscape(target), rec.Header().Get("Location"))
	assertPageHeaders(t, rec)

	rec = f.do(http.MethodPost, target, "", url.Values{"decision": {"approve"}})
	assert.Equal(t, http.StatusSeeOther, rec.Code)
	// The way back is the request itself: after login its GET shows the
	// consent page again, never a code the user did not see.
	assert.Equal(t, "/login?return_to="+url.QueryEscape(target), rec.Header().Get("Location"))

	f2 := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{LoginRequired: handlers.RedirectToLogin("/login?lang=en")})
	rec = f2.do(http.MethodGet, target, "", nil)
	assert.Equal(t, "/login?lang=en&return_to="+url.QueryEscape(target), rec.Header().Get("Location"))

	// Default: a 401 page.
	f3 := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	assertShown(t, f3.do(http.MethodGet, target, "", nil), http.StatusUnauthorized, "login_required")
}

// Faults are shown as server_error pages and logged, never leaked; once
// the redirect URI is trusted they are redirected as server_error.
func TestAuthorizeServerFaults(t *testing.T) {
	t.Parallel()
	t.Run("nok, UserFromRequest fails", func(t *testing.T) {
		f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{UserFromRequest: func(echo.Context) (*oauth2server.User, error) {
			return nil, errStorage
		}})
		rec := f.do(http.MethodGet, "/authorize?"+codeQuery().Encode(), "", nil)
		assertShown(t, rec, http.StatusServiceUnavailable, "server_error")
		assert.NotContains(t, rec.Body.String(), "storage is down")
	})
	t.Run("nok, GetClient fails", func(t *testing.T) {
		m := &failingModel{Model: memorymodel.New(), failGetClient: true}
		srv, err := oauth2server.New(m, oauth2server.Options{})
		require.NoError(t, err)
		e := echo.New()
		e.GET("/authorize", handlers.AuthorizeWithConfig(handlers.AuthorizeConfig{Server: srv, UserFromRequest: userFromHeader}))
		rec := serve(e, http.MethodGet, "/authorize?"+codeQuery().Encode(), "alice")
		assertShown(t, rec, http.StatusServiceUnavailable, "server_error")
		assert.NotContains(t, rec.Body.String(), "storage is down")
	})
	t.Run("nok, ValidateScope fails", func(t *testing.T) {
		m := memorymodel.New()
		addClients(t, m)
		srv, err := oauth2server.New(failingScopes{m}, oauth2server.Options{})
		require.NoError(t, err)
		e := echo.New()
		e.GET("/authorize", handlers.AuthorizeWithConfig(handlers.AuthorizeConfig{Server: srv, UserFromRequest: userFromHeader}))
		rec := serve(e, http.MethodGet, "/authorize?"+codeQuery().Encode(), "alice")
		assert.Equal(t, http.StatusFound, rec.Code)
		loc, _ := url.Parse(rec.Header().Get("Location"))
		assert.Equal(t, "server_error", loc.Query().Get("error"))
		assert.Equal(t, "xyz", loc.Query().Get("state"))
		assert.NotContains(t, rec.Header().Get("Location"), "storage")
	})
}

// Methods other than GET, HEAD and POST are refused with an error page.
func TestAuthorizeMethod(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	rec := f.do(http.MethodPut, "/authorize?"+codeQuery().Encode(), "alice", nil)
	assertShown(t, rec, http.StatusMethodNotAllowed, "invalid_request")
	assert.Equal(t, "GET, HEAD, POST", rec.Header().Get("Allow"))
}

// Options: no state with AllowEmptyState, no iss without Issuer, and plain
// PKCE with AllowPlainPKCE.
func TestAuthorizeOptions(t *testing.T) {
	t.Parallel()
	t.Run("ok, AllowEmptyState", func(t *testing.T) {
		f := newFixture(t, oauth2server.Options{AllowEmptyState: true}, handlers.AuthorizeConfig{})
		rec := f.approve(codeQuery("state", ""), "alice")
		require.Equal(t, http.StatusSeeOther, rec.Code)
		loc, _ := url.Parse(rec.Header().Get("Location"))
		assert.Equal(t, []string{"code", "iss"}, sortedKeys(loc.Query()))
	})
	t.Run("ok, no Issuer means no iss", func(t *testing.T) {
		m := memorymodel.New()
		addClients(t, m)
		srv, err := oauth2server.New(m, oauth2server.Options{})
		require.NoError(t, err)
		e := echo.New()
		e.GET("/authorize", handlers.AuthorizeWithConfig(handlers.AuthorizeConfig{Server: srv, UserFromRequest: userFromHeader}))
		rec := serve(e, http.MethodGet, "/authorize?"+codeQuery("scope", "admin").Encode(), "alice")
		loc, _ := url.Parse(rec.Header().Get("Location"))
		assert.Equal(t, []string{"error", "error_description", "state"}, sortedKeys(loc.Query()))
	})
	t.Run("ok, AllowPlainPKCE", func(t *testing.T) {
		f := newFixture(t, oauth2server.Options{AllowPlainPKCE: true}, handlers.AuthorizeConfig{})
		rec := f.approve(codeQuery("code_challenge", testVerifier), "alice")
		require.Equal(t, http.StatusSeeOther, rec.Code)
		loc, _ := url.Parse(rec.Header().Get("Location"))
		code, err := f.model.GetAuthorizationCode(context.Background(), loc.Query().Get("code"))
		require.NoError(t, err)
		assert.Equal(t, "plain", code.CodeChallengeMethod)
	})
}

// Configuration errors come from ToHandler; only AuthorizeWithConfig
// panics on them.
func TestAuthorizeConfig(t *testing.T) {
	t.Parallel()
	srv, err := oauth2server.New(memorymodel.New(), oauth2server.Options{})
	require.NoError(t, err)
	var testCases = []struct {
		name        string
		givenConfig handlers.AuthorizeConfig
		expectError string
	}{
		{name: "ok, Server and UserFromRequest", givenConfig: handlers.AuthorizeConfig{Server: srv, UserFromRequest: userFromHeader}},
		{name: "ok, a 32-byte CSRFKey", givenConfig: handlers.AuthorizeConfig{Server: srv, UserFromRequest: userFromHeader, CSRFKey: make([]byte, 32)}},
		{name: "nok, no Server", givenConfig: handlers.AuthorizeConfig{UserFromRequest: userFromHeader},
			expectError: "AuthorizeConfig.Server is required"},
		{name: "nok, no UserFromRequest", givenConfig: handlers.AuthorizeConfig{Server: srv},
			expectError: "AuthorizeConfig.UserFromRequest is required"},
		{name: "nok, short CSRFKey", givenConfig: handlers.AuthorizeConfig{Server: srv, UserFromRequest: userFromHeader, CSRFKey: []byte("short")},
			expectError: "at least 32 bytes"},
		{name: "nok, negative CSRFMaxAge", givenConfig: handlers.AuthorizeConfig{Server: srv, UserFromRequest: userFromHeader, CSRFMaxAge: -time.Second},
			expectError: "CSRFMaxAge must not be negative"},
		{name: "ok, a ConsentLifetime", givenConfig: handlers.AuthorizeConfig{Server: srv, UserFromRequest: userFromHeader, ConsentLifetime: time.Hour}},
		{name: "nok, negative ConsentLifetime", givenConfig: handlers.AuthorizeConfig{Server: srv, UserFromRequest: userFromHeader, ConsentLifetime: -time.Second},
			expectError: "handlers: AuthorizeConfig.ConsentLifetime must not be negative"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := tc.givenConfig.ToHandler()
			if tc.expectError == "" {
				assert.NoError(t, err)
				assert.NotNil(t, h)
				assert.NotPanics(t, func() { handlers.AuthorizeWithConfig(tc.givenConfig) })
				return
			}
			assert.ErrorContains(t, err, tc.expectError)
			assert.Nil(t, h)
			assert.PanicsWithError(t, err.Error(), func() { handlers.AuthorizeWithConfig(tc.givenConfig) })
		})
	}
}

// A shared CSRFKey lets another instance accept the form.
func TestAuthorizeSharedCSRFKey(t *testing.T) {
	t.Parallel()
	key := []byte(strings.Repeat("k", 32))
	f1 := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{CSRFKey: key})
	f2 := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{CSRFKey: key})
	action, token := f1.consent(codeQuery(), "alice")
	rec := f2.do(http.MethodPost, "/authorize"+action, "alice", url.Values{"decision": {"approve"}, "csrf_token": {token}})
	assert.Equal(t, http.StatusSeeOther, rec.Code)
	assertCodeRedirect(t, http.StatusSeeOther, rec, confRedirect, "xyz")
}

// R-42 (RFC 6749 §10.12): a consent form is single use, so a double post
// or a replay issues no second code; two forms of the same request (two
// tabs) are two tokens; with SessionFromRequest a form is bound to its
// login session, so another session of the same user, the one after a
// logout included, cannot post it.
func TestAuthorizeConsentFormSingleUseAndSessionBound(t *testing.T) {
	t.Parallel()
	const sessionHeader = "X-Test-Session"
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{
		SessionFromRequest: func(c echo.Context) (string, error) {
			return c.Request().Header.Get(sessionHeader), nil
		},
	})
	post := func(action, token, session string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/authorize"+action,
			strings.NewReader(url.Values{"csrf_token": {token}, "decision": {"approve"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(userHeader, "alice")
		req.Header.Set(sessionHeader, session)
		rec := httptest.NewRecorder()
		f.e.ServeHTTP(rec, req)
		return rec
	}
	render := func(session string) (action, token string) {
		req := httptest.NewRequest(http.MethodGet, "/authorize?"+codeQuery().Encode(), nil)
		req.Header.Set(userHeader, "alice")
		req.Header.Set(sessionHeader, session)
		rec := httptest.NewRecorder()
		f.e.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		return pageForm(t, rec.Body.String())
	}

	t.Run("nok, a second post of the same form", func(t *testing.T) {
		action, token := render("s1")
		assertCodeRedirect(t, http.StatusSeeOther, post(action, token, "s1"), confRedirect, "xyz")
		rec := post(action, token, "s1")
		assertShown(t, rec, http.StatusForbidden, "invalid_request")
		assert.Empty(t, rec.Header().Get("Location"), "no second code")
	})
	t.Run("ok, two forms of one request are two tokens", func(t *testing.T) {
		a1, t1 := render("s1")
		a2, t2 := render("s1")
		require.NotEqual(t, t1, t2)
		assertCodeRedirect(t, http.StatusSeeOther, post(a1, t1, "s1"), confRedirect, "xyz")
		assertCodeRedirect(t, http.StatusSeeOther, post(a2, t2, "s1"), confRedirect, "xyz")
	})
	t.Run("nok, another session of the same user", func(t *testing.T) {
		action, token := render("before-logout")
		assertShown(t, post(action, token, "after-login"), http.StatusForbidden, "invalid_request")
		assertShown(t, post(action, token, ""), http.StatusForbidden, "invalid_request")
		// The refused posts did not spend it: the right session still can.
		assertCodeRedirect(t, http.StatusSeeOther, post(action, token, "before-logout"), confRedirect, "xyz")
	})
	t.Run("nok, concurrent posts of one form", func(t *testing.T) {
		action, token := render("s2")
		var wg, start sync.WaitGroup
		start.Add(1)
		codes := make(chan int, 20)
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				codes <- post(action, token, "s2").Code
			}()
		}
		start.Done()
		wg.Wait()
		close(codes)
		got := map[int]int{}
		for c := range codes {
			got[c]++
		}
		assert.Equal(t, map[int]int{http.StatusSeeOther: 1, http.StatusForbidden: 19}, got)
	})
}

// A SessionFromRequest fault is a server error page, not a form.
func TestAuthorizeSessionFromRequestFault(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{
		SessionFromRequest: func(echo.Context) (string, error) { return "", errors.New("session store down") },
	})
	rec := f.do(http.MethodGet, "/authorize?"+codeQuery().Encode(), "alice", nil)
	assertShown(t, rec, http.StatusServiceUnavailable, "server_error")
	assert.NotContains(t, rec.Body.String(), "session store down")
}

// failOnceCodes fails the first SaveAuthorizationCode, as a storage fault.
type failOnceCodes struct {
	*memorymodel.Model
	failed atomic.Bool
}

func (m *failOnceCodes) SaveAuthorizationCode(ctx context.Context, code *oauth2server.AuthorizationCode, c *oauth2server.Client, u *oauth2server.User) error {
	if m.failed.CompareAndSwap(false, true) {
		return errors.New("store down")
	}
	return m.Model.SaveAuthorizationCode(ctx, code, c, u)
}

// A consent form whose approval failed for a fault of the server's is not
// spent: the user can post it again.
func TestAuthorizeConsentFormNotSpentByAServerFault(t *testing.T) {
	t.Parallel()
	f := newFixture(t, oauth2server.Options{}, handlers.AuthorizeConfig{})
	m := &failOnceCodes{Model: f.model}
	srv, err := oauth2server.New(m, oauth2server.Options{Issuer: testIssuer, Now: f.srv.Options().Now, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	f.srv = srv
	f.e = echo.New()
	f.e.Any("/authorize", handlers.AuthorizeWithConfig(handlers.AuthorizeConfig{Server: srv, UserFromRequest: userFromHeader}))

	action, token := f.consent(codeQuery(), "alice")
	form := url.Values{"csrf_token": {token}, "decision": {"approve"}}
	rec := f.do(http.MethodPost, "/authorize"+action, "alice", form)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Contains(t, rec.Header().Get("Location"), "error=server_error", "RFC 6749 §4.1.2.1")
	assertCodeRedirect(t, http.StatusSeeOther, f.do(http.MethodPost, "/authorize"+action, "alice", form), confRedirect, "xyz")
	assertShown(t, f.do(http.MethodPost, "/authorize"+action, "alice", form), http.StatusForbidden, "invalid_request")
}
