package middleware_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	stderrors "errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
	oauthmw "github.com/echo-oauth2/oauth2server/middleware"
)

var mwNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

const (
	goodToken    = "good-token"
	otherToken   = "other-token"
	expiredToken = "expired-token"
	revokedToken = "revoked-token"
	clientToken  = "client-token"
)

func newServer(t *testing.T, model oauth2server.Model) *oauth2server.Server {
	t.Helper()
	srv, err := oauth2server.New(model, oauth2server.Options{
		Now: func() time.Time { return mwNow }, Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 1024})
	require.NoError(t, err)
	return srv
}

func newTokenModel(t *testing.T) *memorymodel.Model {
	t.Helper()
	m := memorymodel.New(memorymodel.WithClock(func() time.Time { return mwNow }))
	ctx := context.Background()
	for _, tok := range []*oauth2server.Token{
		{AccessToken: goodToken, AccessTokenExpiresAt: mwNow.Add(time.Hour), Scope: []string{"read", "write"}, ClientID: "c1", UserID: "alice"},
		{AccessToken: otherToken, AccessTokenExpiresAt: mwNow.Add(time.Hour), Scope: []string{"read"}, ClientID: "c1", UserID: "bob"},
		{AccessToken: expiredToken, AccessTokenExpiresAt: mwNow, Scope: []string{"read"}, ClientID: "c1", UserID: "alice"},
		{AccessToken: revokedToken, AccessTokenExpiresAt: mwNow.Add(time.Hour), Scope: []string{"read"}, ClientID: "c1", UserID: "alice", Revoked: true},
		{AccessToken: clientToken, AccessTokenExpiresAt: mwNow.Add(time.Hour), Scope: []string{"read"}, ClientID: "svc"},
	} {
		require.NoError(t, m.SaveToken(ctx, tok, nil, nil))
	}
	return m
}

// protected runs one request through mw and a handler that reports the
// token it saw and the body it could still read.
func protected(mw echo.MiddlewareFunc, req *http.Request) (*httptest.ResponseRecorder, echo.Context) {
	e := echo.New()
	rec := httptest.NewRecorder()
	c := e.NewContext(req, rec)
	h := mw(func(c echo.Context) error {
		tok, ok := oauthmw.TokenFromContext(c)
		if !ok {
			return c.String(http.StatusOK, "anonymous")
		}
		return c.String(http.StatusOK, tok.AccessToken+"|"+c.FormValue("other"))
	})
	if err := h(c); err != nil {
		e.HTTPErrorHandler(err, c)
	}
	return rec, c
}

func errorBody(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var b struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b), rec.Body.String())
	return b.Error
}

// Every combination of header, query and body, parsed with the token
// endpoint's rules.
func TestAuthenticateTokenMethods(t *testing.T) {
	t.Parallel()
	srv := newServer(t, newTokenModel(t))
	const (
		missing  = `Bearer realm="oauth2server"`
		unknown  = `Bearer realm="oauth2server", error="invalid_token", error_description="The access token is unknown."`
		expired  = `Bearer realm="oauth2server", error="invalid_token", error_description="The access token has expired."`
		revoked  = `Bearer realm="oauth2server", error="invalid_token", error_description="The access token was revoked."`
		multiple = `Bearer realm="oauth2server", error="invalid_request", error_description="The request uses more than one method to send the access token."`
		badHdr   = `Bearer realm="oauth2server", error="invalid_request", error_description="The Authorization header is not a valid Bearer credential."`
		twoHdrs  = `Bearer realm="oauth2server", error="invalid_request", error_description="The request has more than one Authorization header."`
		repeated = `Bearer realm="oauth2server", error="invalid_request", error_description="The request repeats a parameter."`
		encoding = `Bearer realm="oauth2server", error="invalid_request", error_description="The request parameters are not valid application/x-www-form-urlencoded UTF-8."`
		tooLarge = `Bearer realm="oauth2server", error="invalid_request", error_description="The request body is too large."`
	)
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name            string
		givenQueryOK    bool
		givenBodyOK     bool
		whenMethod      string
		whenHeaders     []string
		whenQuery       string
		whenContentType string
		whenBody        string
		expectStatus    int
		expectChallenge string
		expectError     string
		expectBody      string
	}{
		{name: "ok, header", whenHeaders: []string{"Bearer " + goodToken}, expectStatus: 200, expectBody: goodToken + "|"},
		{name: "ok, header scheme in lower case", whenHeaders: []string{"bearer " + goodToken}, expectStatus: 200, expectBody: goodToken + "|"},
		{name: "ok, header scheme in upper case, two spaces", whenHeaders: []string{"BEARER  " + goodToken}, expectStatus: 200, expectBody: goodToken + "|"},
		{name: "nok, nothing", expectStatus: 401, expectChallenge: missing},
		{name: "nok, Basic only", whenHeaders: []string{"Basic YTpi"}, expectStatus: 401, expectChallenge: missing},
		{name: "nok, Bearer without token", whenHeaders: []string{"Bearer"}, expectStatus: 400, expectChallenge: badHdr, expectError: "invalid_request"},
		{name: "nok, Bearer with blank token", whenHeaders: []string{"Bearer   "}, expectStatus: 400, expectChallenge: badHdr, expectError: "invalid_request"},
		{name: "nok, Bearer token with a space", whenHeaders: []string{"Bearer a b"}, expectStatus: 400, expectChallenge: badHdr, expectError: "invalid_request"},
		{name: "nok, Bearer token with a bad character", whenHeaders: []string{"Bearer a\"b"}, expectStatus: 400, expectChallenge: badHdr, expectError: "invalid_request"},
		// RFC 6750 §2: several Authorization headers are refused, never
		// resolved by taking the first or the Bearer one.
		{name: "nok, two Bearer headers", whenHeaders: []string{"Bearer " + goodToken, "Bearer " + goodToken}, expectStatus: 400, expectChallenge: twoHdrs, expectError: "invalid_request"},
		{name: "nok, two different Bearer headers", whenHeaders: []string{"Bearer " + goodToken, "Bearer " + otherToken}, expectStatus: 400, expectChallenge: twoHdrs, expectError: "invalid_request"},
		{name: "nok, Basic and Bearer headers", whenHeaders: []string{"Basic YTpi", "Bearer " + goodToken}, expectStatus: 400, expectChallenge: twoHdrs, expectError: "invalid_request"},
		{name: "nok, Bearer and Basic headers", whenHeaders: []string{"Bearer " + goodToken, "Basic YTpi"}, expectStatus: 400, expectChallenge: twoHdrs, expectError: "invalid_request"},
		{name: "nok, two Basic headers", whenHeaders: []string{"Basic YTpi", "Basic YTpi"}, expectStatus: 400, expectChallenge: twoHdrs, expectError: "invalid_request"},
		{name: "nok, an empty header beside a Bearer header", whenHeaders: []string{"", "Bearer " + goodToken}, expectStatus: 400, expectChallenge: twoHdrs, expectError: "invalid_request"},
		{name: "nok, unknown token", whenHeaders: []string{"Bearer unknown"}, expectStatus: 401, expectChallenge: unknown, expectError: "invalid_token"},
		{name: "ok, token with padding", whenHeaders: []string{"Bearer abc=="}, expectStatus: 401, expectChallenge: unknown, expectError: "invalid_token"},
		{name: "nok, expired token", whenHeaders: []string{"Bearer " + expiredToken}, expectStatus: 401, expectChallenge: expired, expectError: "invalid_token"},
		{name: "nok, revoked token", whenHeaders: []string{"Bearer " + revokedToken}, expectStatus: 401, expectChallenge: revoked, expectError: "invalid_token"},

		{name: "nok, query token ignored by default", whenQuery: "access_token=" + goodToken, expectStatus: 401, expectChallenge: missing},
		{name: "ok, query token when allowed", givenQueryOK: true, whenQuery: "access_token=" + goodToken, expectStatus: 200, expectBody: goodToken + "|"},
		{name: "ok, empty query token is absent", givenQueryOK: true, whenQuery: "access_token=", whenHeaders: []string{"Bearer " + goodToken}, expectStatus: 200, expectBody: goodToken + "|"},
		{name: "nok, query token twice", givenQueryOK: true, whenQuery: "access_token=a&access_token=b", expectStatus: 400, expectChallenge: repeated, expectError: "invalid_request"},
		{name: "ok, other query parameters may repeat", givenQueryOK: true, whenQuery: "tag=a&tag=b&access_token=" + goodToken, expectStatus: 200, expectBody: goodToken + "|"},
		{name: "nok, malformed query when query tokens are allowed", givenQueryOK: true, whenQuery: "q=100%&access_token=" + goodToken, expectStatus: 400, expectChallenge: encoding, expectError: "invalid_request"},
		{name: "nok, semicolon in the query when query tokens are allowed", givenQueryOK: true, whenQuery: "q=1;access_token=" + goodToken, expectStatus: 400, expectChallenge: encoding, expectError: "invalid_request"},
		{name: "ok, malformed query ignored when query tokens are not allowed", whenQuery: "q=100%", whenHeaders: []string{"Bearer " + goodToken}, expectStatus: 200, expectBody: goodToken + "|"},
		{name: "nok, header and query", givenQueryOK: true, whenQuery: "access_token=" + goodToken, whenHeaders: []string{"Bearer " + goodToken}, expectStatus: 400, expectChallenge: multiple, expectError: "invalid_request"},
		{name: "ok, header and query when query is not allowed", whenQuery: "access_token=x", whenHeaders: []string{"Bearer " + goodToken}, expectStatus: 200, expectBody: goodToken + "|"},

		{name: "nok, body token ignored by default", whenMethod: http.MethodPost, whenContentType: form, whenBody: "access_token=" + goodToken, expectStatus: 401, expectChallenge: missing},
		{name: "ok, body token when allowed, body still readable", givenBodyOK: true, whenMethod: http.MethodPost, whenContentType: form, whenBody: "access_token=" + goodToken + "&other=kept", expectStatus: 200, expectBody: goodToken + "|kept"},
		{name: "ok, body token with charset", givenBodyOK: true, whenMethod: http.MethodPut, whenContentType: form + "; charset=utf-8", whenBody: "access_token=" + goodToken, expectStatus: 200, expectBody: goodToken + "|"},
		{name: "nok, body token with GET", givenBodyOK: true, whenMethod: http.MethodGet, whenContentType: form, whenBody: "access_token=" + goodToken, expectStatus: 401, expectChallenge: missing},
		{name: "nok, body token in JSON", givenBodyOK: true, whenMethod: http.MethodPost, whenContentType: "application/json", whenBody: `{"access_token":"` + goodToken + `"}`, expectStatus: 401, expectChallenge: missing},
		{name: "nok, body token twice", givenBodyOK: true, whenMethod: http.MethodPost, whenContentType: form, whenBody: "access_token=a&access_token=b", expectStatus: 400, expectChallenge: repeated, expectError: "invalid_request"},
		{name: "ok, empty body token is absent", givenBodyOK: true, whenMethod: http.MethodPost, whenHeaders: []string{"Bearer " + goodToken}, whenContentType: form, whenBody: "access_token=&other=o", expectStatus: 200, expectBody: goodToken + "|o"},
		{name: "ok, other body parameters may repeat", givenBodyOK: true, whenMethod: http.MethodPatch, whenContentType: form, whenBody: "other=o&tag=a&tag=b&access_token=" + goodToken, expectStatus: 200, expectBody: goodToken + "|o"},
		{name: "ok, body at MaxBodyBytes", givenBodyOK: true, whenMethod: http.MethodDelete, whenContentType: form, whenBody: "access_token=" + goodToken + "&x=" + strings.Repeat("a", 1024-len("access_token="+goodToken+"&x=")), expectStatus: 200, expectBody: goodToken + "|"},
		{name: "nok, malformed body", givenBodyOK: true, whenMethod: http.MethodPost, whenContentType: form, whenBody: "access_token=%zz", expectStatus: 400, expectChallenge: encoding, expectError: "invalid_request"},
		{name: "nok, invalid UTF-8 in another body parameter", givenBodyOK: true, whenMethod: http.MethodPost, whenContentType: form, whenBody: "access_token=" + goodToken + "&name=%ff", expectStatus: 400, expectChallenge: encoding, expectError: "invalid_request"},
		{name: "nok, semicolon in the body", givenBodyOK: true, whenMethod: http.MethodPost, whenContentType: form, whenBody: "a=1;access_token=" + goodToken, expectStatus: 400, expectChallenge: encoding, expectError: "invalid_request"},
		{name: "nok, body over MaxBodyBytes", givenBodyOK: true, whenMethod: http.MethodPost, whenContentType: form, whenBody: "x=" + strings.Repeat("a", 1023), expectStatus: 413, expectChallenge: tooLarge, expectError: "invalid_request"},
		{name: "nok, header and body", givenBodyOK: true, whenMethod: http.MethodPost, whenHeaders: []string{"Bearer " + goodToken}, whenContentType: form, whenBody: "access_token=" + goodToken, expectStatus: 400, expectChallenge: multiple, expectError: "invalid_request"},
		{name: "nok, query and body", givenQueryOK: true, givenBodyOK: true, whenMethod: http.MethodPost, whenQuery: "access_token=" + goodToken, whenContentType: form, whenBody: "access_token=" + goodToken, expectStatus: 400, expectChallenge: multiple, expectError: "invalid_request"},
		{name: "nok, header, query and body", givenQueryOK: true, givenBodyOK: true, whenMethod: http.MethodPost, whenHeaders: []string{"Bearer " + goodToken}, whenQuery: "access_token=" + goodToken, whenContentType: form, whenBody: "access_token=" + goodToken, expectStatus: 400, expectChallenge: multiple, expectError: "invalid_request"},
		{name: "ok, header and body when body is not allowed", whenMethod: http.MethodPost, whenHeaders: []string{"Bearer " + goodToken}, whenContentType: form, whenBody: "access_token=x&other=o", expectStatus: 200, expectBody: goodToken + "|o"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method := tc.whenMethod
			if method == "" {
				method = http.MethodGet
			}
			target := "/resource"
			if tc.whenQuery != "" {
				target += "?" + tc.whenQuery
			}
			req := httptest.NewRequest(method, target, strings.NewReader(tc.whenBody))
			for _, h := range tc.whenHeaders {
				req.Header.Add("Authorization", h)
			}
			if tc.whenContentType != "" {
				req.Header.Set("Content-Type", tc.whenContentType)
			}
			cfg := oauthmw.DefaultAuthenticateConfig
			cfg.Server = srv
			cfg.AllowQueryToken = tc.givenQueryOK
			cfg.AllowBodyToken = tc.givenBodyOK
			rec, _ := protected(oauthmw.AuthenticateWithConfig(cfg), req)

			assert.Equal(t, tc.expectStatus, rec.Code, rec.Body.String())
			if tc.expectChallenge != "" {
				assert.Equal(t, tc.expectChallenge, rec.Header().Get("WWW-Authenticate"))
			}
			if tc.expectStatus == http.StatusOK {
				assert.Equal(t, tc.expectBody, rec.Body.String())
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
			}
			if tc.expectError != "" {
				assert.Equal(t, tc.expectError, errorBody(t, rec))
			}
		})
	}
}

// A request without a token gets 401, a challenge without an error code
// and a JSON body without one either, only a description: through Echo's
// default HTTPErrorHandler, never its {"message":"Unauthorized"}. The same
// holds for RequireScope without Authenticate, whose challenge has no
// realm. R-106
func TestAuthenticateNoToken(t *testing.T) {
	t.Parallel()
	srv := newServer(t, newTokenModel(t))
	const body = `{"error_description":"The request has no bearer access token."}`
	ok := func(c echo.Context) error { return c.NoContent(http.StatusOK) }
	e := echo.New()
	e.Any("/r", ok, oauthmw.Authenticate(srv))
	e.Any("/realm", ok, oauthmw.AuthenticateWithConfig(oauthmw.AuthenticateConfig{Server: srv, Realm: "api"}))
	e.Any("/scope-only", ok, oauthmw.RequireScope("read"))
	var testCases = []struct {
		name            string
		whenMethod      string
		whenPath        string
		whenHeader      string
		whenBody        string
		expectChallenge string
	}{
		{name: "nok, nothing", whenPath: "/r", expectChallenge: `Bearer realm="oauth2server"`},
		{name: "nok, nothing, configured realm", whenPath: "/realm", expectChallenge: `Bearer realm="api"`},
		{name: "nok, another scheme", whenPath: "/r", whenHeader: "Basic YTpi", expectChallenge: `Bearer realm="oauth2server"`},
		{name: "nok, query token not allowed", whenPath: "/r?access_token=" + goodToken, expectChallenge: `Bearer realm="oauth2server"`},
		{name: "nok, body token not allowed", whenMethod: http.MethodPost, whenPath: "/r", whenBody: "access_token=" + goodToken,
			expectChallenge: `Bearer realm="oauth2server"`},
		{name: "nok, RequireScope without Authenticate", whenPath: "/scope-only", whenHeader: "Bearer " + goodToken, expectChallenge: "Bearer"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.whenMethod
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, tc.whenPath, strings.NewReader(tc.whenBody))
			if tc.whenBody != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tc.whenHeader != "" {
				req.Header.Set("Authorization", tc.whenHeader)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusUnauthorized, rec.Code)
			assert.Equal(t, tc.expectChallenge, rec.Header().Get("WWW-Authenticate"))
			assert.NotContains(t, rec.Header().Get("WWW-Authenticate"), "error")
			assert.Contains(t, rec.Header().Get("Content-Type"), "application/json")
			assert.JSONEq(t, body, rec.Body.String())
		})
	}

	// An ErrorHandler sees the same body as the Message.
	var seen error
	mw := oauthmw.AuthenticateWithConfig(oauthmw.AuthenticateConfig{Server: srv,
		ErrorHandler: func(_ echo.Context, err error) error { seen = err; return err }})
	protected(mw, httptest.NewRequest(http.MethodGet, "/", nil))
	var he *echo.HTTPError
	require.ErrorAs(t, seen, &he)
	assert.ErrorIs(t, seen, oauthmw.ErrTokenMissing)
	assert.Equal(t, &oauth2server.ErrorBody{ErrorDescription: "The request has no bearer access token."}, he.Message)
}

// Scope: the configured scope, RequireScope per route, 403 with the scope
// in the challenge, node's scope headers. R-106
func TestAuthenticateScope(t *testing.T) {
	t.Parallel()
	srv := newServer(t, newTokenModel(t))
	tests := []struct {
		name            string
		givenScope      []string
		givenRoute      []string
		givenHeaders    bool
		whenToken       string
		expectStatus    int
		expectChallenge string
		expectAccepted  string
		expectGranted   string
	}{
		{name: "ok, no scope required", whenToken: otherToken, expectStatus: 200},
		{name: "ok, scope covered", givenScope: []string{"read"}, whenToken: otherToken, expectStatus: 200},
		{name: "ok, scope headers", givenScope: []string{"read"}, givenHeaders: true, whenToken: goodToken, expectStatus: 200,
			expectAccepted: "read", expectGranted: "read, write"},
		{name: "nok, scope missing", givenScope: []string{"read", "write"}, whenToken: otherToken, expectStatus: 403,
			expectChallenge: `Bearer realm="oauth2server", error="insufficient_scope", error_description="The access token does not have the scope this resource requires.", scope="read write"`},
		{name: "nok, scope missing with headers", givenScope: []string{"write"}, givenHeaders: true, whenToken: otherToken, expectStatus: 403,
			expectAccepted: "write", expectGranted: "read"},
		{name: "ok, route scope covered", givenRoute: []string{"write"}, whenToken: goodToken, expectStatus: 200},
		{name: "nok, route scope missing", givenRoute: []string{"write"}, whenToken: otherToken, expectStatus: 403,
			expectChallenge: `Bearer realm="oauth2server", error="insufficient_scope", error_description="The access token does not have the scope this resource requires.", scope="write"`},
		{name: "nok, route scope missing with headers", givenRoute: []string{"admin"}, givenHeaders: true, whenToken: goodToken, expectStatus: 403,
			expectAccepted: "admin", expectGranted: "read, write"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := echo.New()
			e.GET("/r", func(c echo.Context) error { return c.NoContent(http.StatusOK) },
				oauthmw.AuthenticateWithConfig(oauthmw.AuthenticateConfig{Server: srv, Scope: tc.givenScope, AddScopeHeaders: tc.givenHeaders}),
				oauthmw.RequireScope(tc.givenRoute...))
			req := httptest.NewRequest(http.MethodGet, "/r", nil)
			req.Header.Set("Authorization", "Bearer "+tc.whenToken)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			assert.Equal(t, tc.expectStatus, rec.Code, rec.Body.String())
			if tc.expectChallenge != "" {
				assert.Equal(t, tc.expectChallenge, rec.Header().Get("WWW-Authenticate"))
			}
			if tc.expectStatus == http.StatusForbidden {
				assert.Equal(t, "insufficient_scope", errorBody(t, rec))
			}
			assert.Equal(t, tc.expectAccepted, rec.Header().Get("X-Accepted-OAuth-Scopes"))
			assert.Equal(t, tc.expectGranted, rec.Header().Get("X-OAuth-Scopes"))
		})
	}
}

// RequireScope without a verified token never lets the request through.
func TestRequireScopeWithoutAuthenticate(t *testing.T) {
	t.Parallel()
	e := echo.New()
	e.GET("/r", func(c echo.Context) error { return c.NoContent(http.StatusOK) }, oauthmw.RequireScope("read"))
	req := httptest.NewRequest(http.MethodGet, "/r", nil)
	req.Header.Set("Authorization", "Bearer "+goodToken)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "Bearer", rec.Header().Get("WWW-Authenticate"))
}

// The accessors return the token, its client and its user.
func TestAuthenticateAccessors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, newTokenModel(t))
	tests := []struct {
		name         string
		whenToken    string
		expectClient string
		expectUser   string
		expectNoUser bool
	}{
		{name: "ok, user token", whenToken: goodToken, expectClient: "c1", expectUser: "alice"},
		{name: "ok, client token has no user", whenToken: clientToken, expectClient: "svc", expectNoUser: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+tc.whenToken)
			rec, c := protected(oauthmw.Authenticate(srv), req)
			require.Equal(t, http.StatusOK, rec.Code)
			tok, ok := oauthmw.TokenFromContext(c)
			require.True(t, ok)
			assert.Equal(t, tc.whenToken, tok.AccessToken)
			cid, ok := oauthmw.ClientIDFromContext(c)
			assert.True(t, ok)
			assert.Equal(t, tc.expectClient, cid)
			uid, ok := oauthmw.UserIDFromContext(c)
			assert.Equal(t, !tc.expectNoUser, ok)
			assert.Equal(t, tc.expectUser, uid)
		})
	}
	t.Run("nok, nothing verified", func(t *testing.T) {
		c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
		c.Set("user", "not ours")
		_, ok := oauthmw.TokenFromContext(c)
		assert.False(t, ok)
		_, ok = oauthmw.ClientIDFromContext(c)
		assert.False(t, ok)
		_, ok = oauthmw.UserIDFromContext(c)
		assert.False(t, ok)
	})
}

// The Skipper bypasses the middleware entirely.
func TestAuthenticateSkipper(t *testing.T) {
	t.Parallel()
	srv := newServer(t, newTokenModel(t))
	mw := oauthmw.AuthenticateWithConfig(oauthmw.AuthenticateConfig{Server: srv,
		Skipper: func(c echo.Context) bool { return c.Request().URL.Path == "/public" }})
	rec, _ := protected(mw, httptest.NewRequest(http.MethodGet, "/public", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "anonymous", rec.Body.String())
	rec, _ = protected(mw, httptest.NewRequest(http.MethodGet, "/private", nil))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}

// The ErrorHandler sees every failure as an *echo.HTTPError carrying the
// OAuth error, after the challenge was set; returning nil lets the request
// through without a token.
func TestAuthenticateErrorHandler(t *testing.T) {
	t.Parallel()
	srv := newServer(t, newTokenModel(t))
	var seen []error
	mw := oauthmw.AuthenticateWithConfig(oauthmw.AuthenticateConfig{Server: srv, Realm: "api",
		ErrorHandler: func(c echo.Context, err error) error {
			seen = append(seen, err)
			if c.Request().URL.Path == "/optional" {
				return nil
			}
			return c.JSON(http.StatusTeapot, map[string]string{"custom": "yes"})
		}})

	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("Authorization", "Bearer nope")
	rec, _ := protected(mw, req)
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.Equal(t, `Bearer realm="api", error="invalid_token", error_description="The access token is unknown."`,
		rec.Header().Get("WWW-Authenticate"))
	require.Len(t, seen, 1)
	var he *echo.HTTPError
	require.ErrorAs(t, seen[0], &he)
	assert.Equal(t, http.StatusUnauthorized, he.Code)
	assert.ErrorIs(t, seen[0], oautherrors.ErrInvalidToken)

	rec, _ = protected(mw, httptest.NewRequest(http.MethodGet, "/optional", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "anonymous", rec.Body.String())
	require.Len(t, seen, 2)
	assert.ErrorIs(t, seen[1], oauthmw.ErrTokenMissing)

	// RequireScope hands its error to the same handler.
	e := echo.New()
	e.GET("/optional", func(c echo.Context) error { return c.String(http.StatusOK, "through") }, mw, oauthmw.RequireScope("admin"))
	req = httptest.NewRequest(http.MethodGet, "/optional", nil)
	req.Header.Set("Authorization", "Bearer "+goodToken)
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	assert.Equal(t, "through", rec.Body.String())
	require.Len(t, seen, 3)
	assert.ErrorIs(t, seen[2], oautherrors.ErrInsufficientScope)
	e.GET("/strict", func(c echo.Context) error { return c.String(http.StatusOK, "through") }, mw, oauthmw.RequireScope("admin"))
	req = httptest.NewRequest(http.MethodGet, "/strict", nil)
	req.Header.Set("Authorization", "Bearer "+goodToken)
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusTeapot, rec.Code)
}

// tokenlessModel has only the mandatory Model methods.
type tokenlessModel struct{ m *memorymodel.Model }

func (t tokenlessModel) GetClient(ctx context.Context, id string) (*oauth2server.Client, error) {
	return t.m.GetClient(ctx, id)
}

func (t tokenlessModel) SaveToken(ctx context.Context, tok *oauth2server.Token, c *oauth2server.Client, u *oauth2server.User) error {
	return t.m.SaveToken(ctx, tok, c, u)
}

// brokenTokens fails every access token lookup or returns a token without
// expiry.
type brokenTokens struct {
	*memorymodel.Model
	noExpiry bool
}

func (b brokenTokens) GetAccessToken(context.Context, string) (*oauth2server.Token, error) {
	if b.noExpiry {
		return &oauth2server.Token{AccessToken: "x"}, nil
	}
	return nil, stderrors.New("database unreachable")
}

type brokenVerifier struct{ *memorymodel.Model }

func (brokenVerifier) VerifyScope(context.Context, *oauth2server.Token, []string) (bool, error) {
	return false, stderrors.New("policy engine down")
}

// Faults are 503 server_error without a challenge and without their text;
// a model without AccessTokenModel fails closed instead of panicking.
func TestAuthenticateServerFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		model oauth2server.Model
		scope []string
	}{
		{"nok, GetAccessToken fails", brokenTokens{Model: newTokenModel(t)}, nil},
		{"nok, token without expiry", brokenTokens{Model: newTokenModel(t), noExpiry: true}, nil},
		{"nok, VerifyScope fails", brokenVerifier{newTokenModel(t)}, []string{"read"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, tc.model)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+goodToken)
			rec, _ := protected(oauthmw.AuthenticateWithConfig(oauthmw.AuthenticateConfig{Server: srv, Scope: tc.scope}), req)
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Equal(t, "server_error", errorBody(t, rec))
			assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
			assert.NotContains(t, rec.Body.String(), "down")
			assert.NotContains(t, rec.Body.String(), "unreachable")
		})
	}
}

// Configuration errors come from ToMiddleware; only WithConfig panics.
func TestAuthenticateConfig(t *testing.T) {
	t.Parallel()
	srv := newServer(t, newTokenModel(t))
	tests := []struct {
		name      string
		cfg       oauthmw.AuthenticateConfig
		expectErr string
	}{
		{name: "ok, defaults", cfg: oauthmw.AuthenticateConfig{Server: srv}},
		{name: "nok, no server", cfg: oauthmw.AuthenticateConfig{}, expectErr: "Server is required"},
		{name: "nok, quote in realm", cfg: oauthmw.AuthenticateConfig{Server: srv, Realm: `a"b`}, expectErr: "Realm"},
		{name: "nok, bad scope", cfg: oauthmw.AuthenticateConfig{Server: srv, Scope: []string{`a"b`}}, expectErr: "invalid scope"},
		{name: "nok, a server that cannot verify its tokens", cfg: oauthmw.AuthenticateConfig{Server: func() *oauth2server.Server {
			s, err := oauth2server.New(tokenlessModel{newTokenModel(t)}, oauth2server.Options{Grants: []string{}})
			require.NoError(t, err)
			return s
		}()}, expectErr: "cannot verify access tokens"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mw, err := tc.cfg.ToMiddleware()
			if tc.expectErr != "" {
				assert.ErrorContains(t, err, tc.expectErr)
				assert.Nil(t, mw)
				assert.Panics(t, func() { oauthmw.AuthenticateWithConfig(tc.cfg) })
				return
			}
			assert.NoError(t, err)
			assert.NotNil(t, mw)
		})
	}
}

// R-04 (RFC 6750 §5.3): with RequireTLS, a bearer token sent over plain
// HTTP is refused before it is looked up; over TLS it works.
func TestAuthenticateRequireTLS(t *testing.T) {
	t.Parallel()
	srv, err := oauth2server.New(newTokenModel(t), oauth2server.Options{RequireTLS: true,
		Now: func() time.Time { return mwNow }, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	e := echo.New()
	e.GET("/r", func(c echo.Context) error { return c.String(http.StatusOK, "ok") }, oauthmw.Authenticate(srv))

	req := httptest.NewRequest(http.MethodGet, "/r", nil)
	req.Header.Set("Authorization", "Bearer "+goodToken)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, `Bearer realm="oauth2server", error="invalid_request", error_description="The endpoint requires TLS (https)."`,
		rec.Header().Get("WWW-Authenticate"))

	req.TLS = &tls.ConnectionState{}
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
}

// An ErrorHandler that returns nil lets a request through unauthenticated,
// also when RequireScope refused the token: the handler behind it must not
// see the under-scoped token as if the scope check had passed. R-106
func TestRequireScopeErrorHandlerDropsToken(t *testing.T) {
	t.Parallel()
	srv := newServer(t, newTokenModel(t))
	optional := oauthmw.AuthenticateWithConfig(oauthmw.AuthenticateConfig{Server: srv,
		ErrorHandler: func(echo.Context, error) error { return nil }})
	e := echo.New()
	e.GET("/admin", func(c echo.Context) error {
		_, hasToken := oauthmw.TokenFromContext(c)
		_, hasUser := oauthmw.UserIDFromContext(c)
		_, hasClient := oauthmw.ClientIDFromContext(c)
		if hasToken || hasUser || hasClient {
			return c.String(http.StatusOK, "authenticated")
		}
		return c.String(http.StatusOK, "anonymous")
	}, optional, oauthmw.RequireScope("admin"))

	// The same through a second Authenticate with Scope behind a group's.
	e.GET("/nested", func(c echo.Context) error {
		if _, ok := oauthmw.TokenFromContext(c); ok {
			return c.String(http.StatusOK, "authenticated")
		}
		return c.String(http.StatusOK, "anonymous")
	}, optional, oauthmw.AuthenticateWithConfig(oauthmw.AuthenticateConfig{Server: srv, Scope: []string{"admin"},
		ErrorHandler: func(echo.Context, error) error { return nil }}))

	for _, path := range []string{"/admin", "/nested"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+goodToken) // scope "read write", no "admin"
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusOK, rec.Code, path)
		assert.Equal(t, "anonymous", rec.Body.String(), path)
	}
}
