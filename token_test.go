package oauth2server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// TestTokenEndpointErrors covers every request-parsing and client
// authentication error of the token endpoint, with its exact code, status
// and headers, through handlers.Token on Echo and nethttp.Token.
func TestTokenEndpointErrors(t *testing.T) {
	cc := "grant_type=client_credentials"
	confBody := cc + "&client_id=" + confID + "&client_secret=" + confSecret
	var testCases = []struct {
		name            string
		givenReq        tokenReq
		expectStatus    int
		expectCode      string
		expectDesc      string // checked when not empty
		expectChallenge bool
	}{
		// POST with an application/x-www-form-urlencoded body only;
		// another media type is 415 (RFC 9110 §15.5.16), a malformed
		// Content-Type 400.
		{name: "nok, GET instead of POST", givenReq: tokenReq{method: http.MethodGet, query: confBody},
			expectStatus: http.StatusMethodNotAllowed, expectCode: "invalid_request"},
		{name: "nok, PUT instead of POST", givenReq: tokenReq{method: http.MethodPut, body: confBody},
			expectStatus: http.StatusMethodNotAllowed, expectCode: "invalid_request"},
		{name: "nok, JSON content type", givenReq: tokenReq{contentType: "application/json", body: `{"grant_type":"client_credentials"}`, auth: basic(confID, confSecret)},
			expectStatus: http.StatusUnsupportedMediaType, expectCode: "invalid_request", expectDesc: "The request body must be application/x-www-form-urlencoded."},
		{name: "nok, text/plain content type", givenReq: tokenReq{contentType: "text/plain", body: confBody},
			expectStatus: http.StatusUnsupportedMediaType, expectCode: "invalid_request"},
		{name: "nok, multipart content type", givenReq: tokenReq{contentType: "multipart/form-data; boundary=x", body: confBody},
			expectStatus: http.StatusUnsupportedMediaType, expectCode: "invalid_request"},
		{name: "nok, malformed content type", givenReq: tokenReq{contentType: "application/x-www-form-urlencoded; =", body: confBody},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The Content-Type header is malformed."},
		{name: "nok, no content type", givenReq: tokenReq{contentType: "-", body: confBody},
			expectStatus: http.StatusUnsupportedMediaType, expectCode: "invalid_request"},
		// Part 2 §2: body capped, 413 and never 5xx.
		{name: "nok, body over the cap", givenReq: tokenReq{body: confBody + "&pad=" + strings.Repeat("a", 64<<10)},
			expectStatus: http.StatusRequestEntityTooLarge, expectCode: "invalid_request", expectDesc: "The request body is too large."},
		// the query is never read, so credentials there do not count.
		{name: "nok, client_secret in the query does not authenticate", givenReq: tokenReq{body: cc + "&client_id=" + confID, query: "client_secret=" + confSecret},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectDesc: "Client authentication failed.", expectChallenge: true},
		{name: "nok, grant_type in the query is ignored", givenReq: tokenReq{body: "client_id=" + confID + "&client_secret=" + confSecret, query: cc},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The grant_type parameter is missing."},
		// repeated parameters.
		{name: "nok, repeated grant_type", givenReq: tokenReq{body: cc + "&" + cc, auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The request repeats a parameter."},
		{name: "nok, repeated scope", givenReq: tokenReq{body: cc + "&scope=read&scope=write", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The request repeats a parameter."},
		{name: "nok, repeated client_id", givenReq: tokenReq{body: confBody + "&client_id=" + otherID},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The request repeats a parameter."},
		// R-15 and Part 3: encoding errors are invalid_request.
		{name: "nok, invalid UTF-8", givenReq: tokenReq{body: cc + "&scope=%ff%fe", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The request parameters are not valid application/x-www-form-urlencoded UTF-8."},
		{name: "nok, invalid UTF-8 in a name", givenReq: tokenReq{body: cc + "&%c3=x", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		{name: "nok, bad percent escape", givenReq: tokenReq{body: cc + "&scope=%zz", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		{name: "nok, truncated percent escape", givenReq: tokenReq{body: cc + "&scope=%4", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		{name: "nok, semicolon separator", givenReq: tokenReq{body: "grant_type=client_credentials;scope=read", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request"},
		// grant_type.
		{name: "nok, missing grant_type", givenReq: tokenReq{body: "scope=read", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The grant_type parameter is missing."},
		{name: "nok, empty grant_type is omitted", givenReq: tokenReq{body: "grant_type=", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The grant_type parameter is missing."},
		{name: "nok, unsupported grant_type", givenReq: tokenReq{body: "grant_type=implicit", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "unsupported_grant_type"},
		{name: "nok, unregistered extension grant_type", givenReq: tokenReq{body: "grant_type=" + url.QueryEscape(extGrant), auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "unsupported_grant_type"},
		// password grant off by default.
		{name: "nok, password grant off by default", givenReq: tokenReq{body: "grant_type=password&username=alice&password=alice-password", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "unsupported_grant_type"},
		// HTTP Basic.
		{name: "nok, unknown client with Basic", givenReq: tokenReq{body: cc, auth: basic("nobody", confSecret)},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectDesc: "Client authentication failed.", expectChallenge: true},
		{name: "nok, wrong secret with Basic", givenReq: tokenReq{body: cc, auth: basic(confID, "wrong")},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectDesc: "Client authentication failed.", expectChallenge: true},
		{name: "nok, empty secret with Basic for a confidential client", givenReq: tokenReq{body: cc, auth: basic(confID, "")},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		{name: "nok, Bearer header and client_secret in the body", givenReq: tokenReq{body: confBody, auth: "Bearer abc"},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The request uses more than one client authentication method."},
		{name: "nok, Bearer scheme alone", givenReq: tokenReq{body: cc, auth: "Bearer abc"},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		{name: "nok, Basic with bad base64", givenReq: tokenReq{body: cc, auth: "Basic !!!"},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		{name: "nok, Basic without colon", givenReq: tokenReq{body: cc, auth: rawBasic(confID)},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		{name: "nok, Basic with empty id", givenReq: tokenReq{body: cc, auth: rawBasic(":" + confSecret)},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		{name: "nok, Basic scheme without credentials", givenReq: tokenReq{body: cc, auth: "Basic"},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		{name: "nok, Basic with raw percent sign not form-urlencoded", givenReq: tokenReq{body: cc, auth: rawBasic(weirdID + ":" + weirdSecret)},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		{name: "nok, Basic with raw plus not form-urlencoded", givenReq: tokenReq{body: cc, auth: rawBasic(url.QueryEscape(weirdID) + ":pa%3Ass%25wo+rd+%C3%A9")},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		// exactly one authentication method.
		{name: "nok, Basic and client_secret in the body", givenReq: tokenReq{body: confBody, auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The request uses more than one client authentication method."},
		// several Authorization headers are refused, never resolved
		// by taking the first (RFC 9110 §11.6.2: one credential).
		{name: "nok, two identical Basic headers", givenReq: tokenReq{body: cc, auth: basic(confID, confSecret), auth2: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The request has more than one Authorization header."},
		{name: "nok, two Basic headers of different clients", givenReq: tokenReq{body: cc, auth: basic(confID, confSecret), auth2: basic(otherID, otherSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The request has more than one Authorization header."},
		{name: "nok, Basic and Bearer headers", givenReq: tokenReq{body: cc, auth: basic(confID, confSecret), auth2: "Bearer abc"},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The request has more than one Authorization header."},
		{name: "nok, a wrong Basic header before a right one", givenReq: tokenReq{body: cc, auth: basic(confID, "wrong"), auth2: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The request has more than one Authorization header."},
		{name: "nok, Basic id differs from body client_id", givenReq: tokenReq{body: cc + "&client_id=" + otherID, auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The client_id parameter does not match the authenticated client."},
		// body credentials; invalid_client is 401 with a Basic challenge on every endpoint.
		{name: "nok, no client authentication", givenReq: tokenReq{body: cc},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectDesc: "Client authentication is required.", expectChallenge: true},
		{name: "nok, unknown client in the body", givenReq: tokenReq{body: cc + "&client_id=nobody&client_secret=" + confSecret},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectDesc: "Client authentication failed.", expectChallenge: true},
		{name: "nok, wrong secret in the body", givenReq: tokenReq{body: cc + "&client_id=" + confID + "&client_secret=wrong"},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectDesc: "Client authentication failed.", expectChallenge: true},
		{name: "nok, confidential client without secret", givenReq: tokenReq{body: cc + "&client_id=" + confID},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectDesc: "Client authentication failed.", expectChallenge: true},
		{name: "nok, client_secret without client_id", givenReq: tokenReq{body: cc + "&client_secret=" + confSecret},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		// Part 2 §3: a registered TokenEndpointAuthMethod is enforced.
		{name: "nok, client_secret_basic client uses the body", givenReq: tokenReq{body: cc + "&client_id=" + basicID + "&client_secret=" + confSecret},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectDesc: "Client authentication failed.", expectChallenge: true},
		{name: "nok, client_secret_post client uses Basic", givenReq: tokenReq{body: cc, auth: basic(postID, confSecret)},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectDesc: "Client authentication failed.", expectChallenge: true},
		// a client registered for a secret method but stored without
		// a secret hash fails closed instead of becoming public.
		{name: "nok, client_secret_basic client without a stored secret, client_id only", givenReq: tokenReq{body: "grant_type=refresh_token&refresh_token=x&client_id=" + nohashID},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		{name: "nok, client_secret_basic client without a stored secret, empty Basic password", givenReq: tokenReq{body: "grant_type=refresh_token&refresh_token=x", auth: basic(nohashID, "")},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		{name: "nok, client_secret_basic client without a stored secret, any password", givenReq: tokenReq{body: "grant_type=refresh_token&refresh_token=x", auth: basic(nohashID, "x")},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		// a public client has no secret.
		{name: "nok, public client sends a secret in the body", givenReq: tokenReq{body: "grant_type=refresh_token&refresh_token=x&client_id=" + pubID + "&client_secret=guess"},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		{name: "nok, public client sends a secret with Basic", givenReq: tokenReq{body: "grant_type=refresh_token&refresh_token=x", auth: basic(pubID, "guess")},
			expectStatus: http.StatusUnauthorized, expectCode: "invalid_client", expectChallenge: true},
		// grant permissions.
		{name: "nok, client not allowed the grant", givenReq: tokenReq{body: cc, auth: basic(limitedID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "unauthorized_client", expectDesc: "The client is not authorized to use this grant type."},
		{name: "nok, public client on client_credentials", givenReq: tokenReq{body: cc + "&client_id=" + pubID},
			expectStatus: http.StatusBadRequest, expectCode: "unauthorized_client", expectDesc: "This grant type requires an authenticated (confidential) client."},
		// scope syntax and the client's registered scopes.
		{name: "nok, scope with a double quote", givenReq: tokenReq{body: cc + "&scope=" + url.QueryEscape(`read "x"`), auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_scope", expectDesc: "The scope parameter is malformed."},
		{name: "nok, scope with a backslash", givenReq: tokenReq{body: cc + "&scope=" + url.QueryEscape(`a\b`), auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_scope"},
		{name: "nok, scope with a non-ASCII character", givenReq: tokenReq{body: cc + "&scope=" + url.QueryEscape("réad"), auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_scope"},
		{name: "nok, scope with a tab", givenReq: tokenReq{body: cc + "&scope=read%09write", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_scope"},
		{name: "nok, scope exceeds the client's scopes", givenReq: tokenReq{body: cc + "&scope=read+delete", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_scope", expectDesc: "The requested scope exceeds the scope registered for the client."},
		// Grant parameters.
		{name: "nok, authorization_code without code", givenReq: tokenReq{body: "grant_type=authorization_code&redirect_uri=" + url.QueryEscape(testRedirect), auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The code parameter is missing."},
		{name: "nok, unknown authorization code", givenReq: tokenReq{body: "grant_type=authorization_code&code=nope", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_grant", expectDesc: "The authorization code is invalid, expired, or was already used."},
		{name: "nok, refresh_token grant without refresh_token", givenReq: tokenReq{body: "grant_type=refresh_token", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_request", expectDesc: "The refresh_token parameter is missing."},
		{name: "nok, unknown refresh token", givenReq: tokenReq{body: "grant_type=refresh_token&refresh_token=nope", auth: basic(confID, confSecret)},
			expectStatus: http.StatusBadRequest, expectCode: "invalid_grant", expectDesc: "The refresh token is invalid, expired, or revoked."},
	}
	env := newTestEnv(t)
	for _, tc := range testCases {
		for _, transport := range []string{"echo", "net/http"} {
			t.Run(tc.name+" ("+transport+")", func(t *testing.T) {
				env.t = t
				var r answer
				if transport == "echo" {
					r = env.do(tc.givenReq)
				} else {
					r = env.serve(tc.givenReq)
				}
				requireError(t, r, tc.expectStatus, tc.expectCode, tc.expectChallenge)
				if tc.expectDesc != "" {
					assert.Equal(t, tc.expectDesc, r.body["error_description"])
				}
				if tc.expectStatus == http.StatusMethodNotAllowed {
					assert.Equal(t, http.MethodPost, r.header.Get("Allow"))
				}
			})
		}
	}
}

// accepted request shapes.
func TestTokenEndpointAcceptedRequests(t *testing.T) {
	cc := "grant_type=client_credentials"
	var testCases = []struct {
		name      string
		givenReq  tokenReq
		expectCID string
	}{
		{"ok, Basic", tokenReq{body: cc, auth: basic(confID, confSecret)}, confID},
		{"ok, lower-case basic scheme", tokenReq{body: cc, auth: "basic " + basic(confID, confSecret)[len("Basic "):]}, confID},
		{"ok, Basic with form-urlencoded ':' '%' '+' and UTF-8", tokenReq{body: cc, auth: basic(weirdID, weirdSecret)}, weirdID},
		{"ok, Basic and a matching body client_id", tokenReq{body: cc + "&client_id=" + confID, auth: basic(confID, confSecret)}, confID},
		{"ok, Basic and an empty client_secret in the body", tokenReq{body: cc + "&client_secret=", auth: basic(confID, confSecret)}, confID},
		{"ok, body credentials", tokenReq{body: cc + "&client_id=" + confID + "&client_secret=" + confSecret}, confID},
		{"ok, body credentials with form-urlencoded characters", tokenReq{body: cc + "&" + url.Values{"client_id": {weirdID}, "client_secret": {weirdSecret}}.Encode()}, weirdID},
		{"ok, client_secret_basic client with Basic", tokenReq{body: cc, auth: basic(basicID, confSecret)}, basicID},
		{"ok, client_secret_post client with the body", tokenReq{body: cc + "&client_id=" + postID + "&client_secret=" + confSecret}, postID},
		{"ok, charset parameter on the content type", tokenReq{contentType: "application/x-www-form-urlencoded; charset=UTF-8", body: cc, auth: basic(confID, confSecret)}, confID},
		{"ok, upper-case content type", tokenReq{contentType: "Application/X-WWW-Form-Urlencoded", body: cc, auth: basic(confID, confSecret)}, confID},
		{"ok, unknown parameters ignored", tokenReq{body: cc + "&foo=bar&resource_owner=x", auth: basic(confID, confSecret)}, confID},
		{"ok, empty repeat of a parameter is omitted", tokenReq{body: cc + "&scope=&scope=read", auth: basic(confID, confSecret)}, confID},
		{"ok, parameter without '=' is omitted", tokenReq{body: cc + "&scope&scope=read", auth: basic(confID, confSecret)}, confID},
		{"ok, empty pairs are skipped", tokenReq{body: "&&" + cc + "&&", auth: basic(confID, confSecret)}, confID},
		{"ok, body exactly at the cap", tokenReq{body: cc + "&pad=" + strings.Repeat("a", 64<<10-len(cc)-len("&pad=")), auth: basic(confID, confSecret)}, confID},
	}
	env := newTestEnv(t)
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			env.t = t
			r := env.do(tc.givenReq)
			requireOK(t, r)
			assert.Equal(t, tc.expectCID, env.accessToken(str(r.body["access_token"])).ClientID)
		})
	}
}

// Part 2 §3: an unknown client and a wrong secret get the same
// answer, byte for byte, with and without the Authorization header.
func TestUnknownClientAndWrongSecretIndistinguishable(t *testing.T) {
	env := newTestEnv(t)
	cc := "grant_type=client_credentials"
	unknownBasic := env.do(tokenReq{body: cc, auth: basic("nobody", "x")})
	wrongBasic := env.do(tokenReq{body: cc, auth: basic(confID, "x")})
	assert.Equal(t, unknownBasic.status, wrongBasic.status)
	assert.Equal(t, unknownBasic.raw, wrongBasic.raw)
	assert.Equal(t, unknownBasic.header.Get("WWW-Authenticate"), wrongBasic.header.Get("WWW-Authenticate"))

	unknownBody := env.do(tokenReq{body: cc + "&client_id=nobody&client_secret=x"})
	wrongBody := env.do(tokenReq{body: cc + "&client_id=" + confID + "&client_secret=x"})
	wrongMethod := env.do(tokenReq{body: cc + "&client_id=" + basicID + "&client_secret=" + confSecret})
	assert.Equal(t, unknownBody.raw, wrongBody.raw)
	assert.Equal(t, unknownBody.raw, wrongMethod.raw)
	assert.Equal(t, unknownBasic.raw, unknownBody.raw, "same body, only status and challenge differ")
}

// Part 2 §2: a chunked body without Content-Length is capped as well.
func TestTokenBodyCapWithoutContentLength(t *testing.T) {
	env := newTestEnv(t, withOptions(func(o *oauth2server.Options) { o.MaxBodyBytes = 100 }))
	req := tokenReq{body: "grant_type=client_credentials&pad=" + strings.Repeat("a", 200), auth: basic(confID, confSecret)}.build()
	req.ContentLength = -1
	r := env.doRequest(req)
	requireError(t, r, http.StatusRequestEntityTooLarge, "invalid_request", false)

	small := env.do(tokenReq{body: "grant_type=client_credentials", auth: basic(confID, confSecret)})
	require.Equal(t, http.StatusOK, small.status)
}

// error responses never echo request input, and their
// descriptions stay within RFC 6749 Appendix A.8.
func TestErrorsDoNotEchoInput(t *testing.T) {
	env := newTestEnv(t)
	evil := "<script>alert(1)</script>\"\r\nX-Injected: 1"
	for _, body := range []string{
		url.Values{"grant_type": {evil}}.Encode(),
		url.Values{"grant_type": {"client_credentials"}, "scope": {evil}}.Encode(),
		url.Values{"grant_type": {"client_credentials"}, "client_id": {evil}, "client_secret": {evil}}.Encode(),
		url.Values{"grant_type": {"authorization_code"}, "code": {evil}, "client_id": {confID}, "client_secret": {confSecret}}.Encode(),
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {evil}, "client_id": {confID}, "client_secret": {confSecret}}.Encode(),
	} {
		for _, auth := range []string{"", basic(evil, evil)} {
			if auth != "" && strings.Contains(body, "client_secret") {
				continue
			}
			r := env.do(tokenReq{body: body, auth: auth})
			require.NotEqual(t, http.StatusOK, r.status)
			assert.NotContains(t, r.raw, "alert")
			assert.NotContains(t, r.raw, "Injected")
			assert.Empty(t, r.header.Get("X-Injected"))
			// Every library error carries a fixed description, so the
			// character check below always has something to check.
			require.NotEmpty(t, str(r.body["error_description"]), r.raw)
			for _, c := range str(r.body["error_description"]) {
				assert.True(t, c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e), "%q", c)
			}
		}
	}
}

// node's allowExtendedTokenAttributes: Token.Extra appears in the response
// only when enabled and never replaces or adds a standard member.
func TestAllowExtendedTokenAttributes(t *testing.T) {
	handler := oauth2server.ExtensionGrantFunc(func(_ context.Context, req *oauth2server.TokenRequest) (*oauth2server.GrantResult, error) {
		return &oauth2server.GrantResult{Scope: []string{"read"}, Extra: map[string]any{
			"id_token": "xyz", "tenant": 42.0,
			"access_token": "evil", "token_type": "evil", "expires_in": "evil",
			"refresh_token": "evil", "scope": "evil",
		}}, nil
	})
	for _, allow := range []bool{true, false} {
		env := newTestEnv(t, withOptions(func(o *oauth2server.Options) {
			o.ExtensionGrants = map[string]oauth2server.ExtensionGrant{extGrant: handler}
			o.AllowExtendedTokenAttributes = allow
		}))
		for _, transport := range []func(tokenReq) answer{env.do, env.serve} {
			r := transport(tokenReq{body: url.Values{"grant_type": {extGrant}}.Encode(), auth: basic(confID, confSecret)})
			requireOK(t, r)
			assert.NotEqual(t, "evil", r.body["access_token"])
			assert.Equal(t, "Bearer", r.body["token_type"])
			assert.EqualValues(t, 3600, r.body["expires_in"])
			assert.Equal(t, "read", r.body["scope"])
			assert.NotContains(t, r.body, "refresh_token", "no refresh token was issued")
			if allow {
				assert.Equal(t, "xyz", r.body["id_token"])
				assert.EqualValues(t, 42, r.body["tenant"])
			} else {
				assert.NotContains(t, r.body, "id_token")
				assert.NotContains(t, r.body, "tenant")
			}
		}
	}
}

// Client.RefreshTokenLifetime overrides the option.
func TestPerClientRefreshLifetime(t *testing.T) {
	env := newTestEnv(t)
	require.NoError(t, env.model.AddClient(context.Background(), &oauth2server.Client{ID: "short-rt", SecretHash: oauth2server.HashSecret("x"),
		Grants: []string{"authorization_code", "refresh_token"}, RefreshTokenLifetime: time.Hour}))
	env.saveCode(&oauth2server.AuthorizationCode{Code: "c", ClientID: "short-rt"})
	r := env.do(tokenReq{body: "grant_type=authorization_code&code=c", auth: basic("short-rt", "x")})
	requireOK(t, r)
	assert.Equal(t, env.clock.Now().Add(time.Hour), env.refreshToken(str(r.body["refresh_token"])).RefreshTokenExpiresAt)
}
