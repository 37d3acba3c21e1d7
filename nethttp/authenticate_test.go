package nethttp_test

import (
	stderrors "errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/nethttp"
)

// echoToken answers with the verified token and the body the handler can
// still read.
var echoToken = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	tok, ok := nethttp.TokenFromContext(r.Context())
	if !ok {
		_, _ = w.Write([]byte("anonymous"))
		return
	}
	user, _ := nethttp.UserIDFromContext(r.Context())
	client, _ := nethttp.ClientIDFromContext(r.Context())
	_ = r.ParseForm()
	_, _ = w.Write([]byte(tok.AccessToken + "|" + client + "|" + user + "|" + r.PostForm.Get("other")))
})

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name          string
		givenConfig   func(srv *oauth2server.Server) nethttp.AuthenticateConfig
		whenMethod    string
		whenBody      string
		whenAuth      string
		expectStatus  int
		expectBody    string
		expectWWWAuth string
	}{
		{name: "ok, header token",
			whenAuth: "Bearer " + goodToken, expectStatus: http.StatusOK, expectBody: goodToken + "|app|alice|"},
		{name: "ok, body token, body restored for the handler",
			givenConfig: func(srv *oauth2server.Server) nethttp.AuthenticateConfig {
				return nethttp.AuthenticateConfig{Server: srv, AllowBodyToken: true}
			},
			whenMethod: http.MethodPost, whenBody: "access_token=" + goodToken + "&other=x",
			expectStatus: http.StatusOK, expectBody: goodToken + "|app|alice|x"},
		{name: "nok, body token too large is 413",
			givenConfig: func(srv *oauth2server.Server) nethttp.AuthenticateConfig {
				return nethttp.AuthenticateConfig{Server: srv, AllowBodyToken: true}
			},
			whenMethod: http.MethodPost, whenBody: "access_token=" + goodToken + "&other=" + strings.Repeat("x", 2048),
			expectStatus: http.StatusRequestEntityTooLarge},
		{name: "ok, skipped",
			givenConfig: func(srv *oauth2server.Server) nethttp.AuthenticateConfig {
				return nethttp.AuthenticateConfig{Server: srv, Skipper: func(*http.Request) bool { return true }}
			},
			expectStatus: http.StatusOK, expectBody: "anonymous"},
		{name: "ok, ErrorHandler lets the request through without a token",
			givenConfig: func(srv *oauth2server.Server) nethttp.AuthenticateConfig {
				return nethttp.AuthenticateConfig{Server: srv, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err *nethttp.Error) bool {
					return stderrors.Is(err, nethttp.ErrTokenMissing)
				}}
			},
			expectStatus: http.StatusOK, expectBody: "anonymous", expectWWWAuth: `Bearer realm="oauth2server"`},
		{name: "nok, ErrorHandler writes its own answer",
			givenConfig: func(srv *oauth2server.Server) nethttp.AuthenticateConfig {
				return nethttp.AuthenticateConfig{Server: srv, Realm: "api", ErrorHandler: func(w http.ResponseWriter, r *http.Request, err *nethttp.Error) bool {
					var oe *oautherrors.Error
					if stderrors.As(err, &oe) {
						http.Error(w, oe.Code, http.StatusTeapot)
					}
					return false
				}}
			},
			whenAuth: "Bearer unknown", expectStatus: http.StatusTeapot, expectBody: "invalid_token\n",
			expectWWWAuth: `Bearer realm="api", error="invalid_token", error_description="The access token is unknown."`},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			cfg := nethttp.AuthenticateConfig{Server: srv}
			if tc.givenConfig != nil {
				cfg = tc.givenConfig(srv)
			}
			mw, err := cfg.ToMiddleware()
			require.NoError(t, err)
			method := tc.whenMethod
			if method == "" {
				method = http.MethodGet
			}
			req := httptest.NewRequest(method, "/api", strings.NewReader(tc.whenBody))
			if tc.whenBody != "" {
				req.Header.Set("Content-Type", formType)
			}
			if tc.whenAuth != "" {
				req.Header.Set("Authorization", tc.whenAuth)
			}
			rec := httptest.NewRecorder()
			mw(echoToken).ServeHTTP(rec, req)
			assert.Equal(t, tc.expectStatus, rec.Code, rec.Body.String())
			if tc.expectBody != "" {
				assert.Equal(t, tc.expectBody, rec.Body.String())
			}
			if tc.expectWWWAuth != "" {
				assert.Equal(t, tc.expectWWWAuth, rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}

func TestAuthenticateConfigErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for name, cfg := range map[string]nethttp.AuthenticateConfig{
		"no server":     {},
		"bad realm":     {Server: srv, Realm: `a"b`},
		"invalid scope": {Server: srv, Scope: []string{"a b\\"}},
	} {
		_, err := cfg.ToMiddleware()
		assert.Error(t, err, name)
		assert.Panics(t, func() { nethttp.AuthenticateWithConfig(cfg) }, name)
	}
}

func TestTokenFromContextWithoutMiddleware(t *testing.T) {
	t.Parallel()
	_, ok := nethttp.TokenFromContext(httptest.NewRequest(http.MethodGet, "/", nil).Context())
	assert.False(t, ok)
}

func TestJWKSOpaqueTokensIs404(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	nethttp.JWKS(newServer(t)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/jwks.json", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	_, err := nethttp.JWKSConfig{Server: newServer(t), MaxAge: -1}.ToHandler()
	assert.Error(t, err)
	_, err = nethttp.MetadataConfig{}.ToHandler()
	assert.Error(t, err)
}
