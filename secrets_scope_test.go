package oauth2server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// secrets are stored hashed and verified by digest.
func TestVerifySecret(t *testing.T) {
	bcryptHash, err := oauth2server.HashPassword("hunter2")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(bcryptHash, "$2a$"))
	sha := oauth2server.HashSecret("s3cret")
	assert.True(t, strings.HasPrefix(sha, "sha256:"))
	assert.NotContains(t, sha, "s3cret")

	var testCases = []struct {
		name        string
		givenHash   string
		givenSecret string
		expect      bool
	}{
		{"ok, sha256", sha, "s3cret", true},
		{"ok, bcrypt", bcryptHash, "hunter2", true},
		{"ok, bcrypt $2b$", "$2b$" + bcryptHash[4:], "hunter2", true},
		{"nok, sha256 wrong secret", sha, "s3cres", false},
		{"nok, sha256 empty secret", sha, "", false},
		{"nok, bcrypt wrong secret", bcryptHash, "hunter3", false},
		{"nok, sha256 digest not base64url", "sha256:***", "s3cret", false},
		{"nok, sha256 digest too short", "sha256:AAAA", "s3cret", false},
		{"nok, plain text stored secret", "s3cret", "s3cret", false},
		{"nok, empty hash", "", "", false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.expect, oauth2server.VerifySecret(tc.givenHash, tc.givenSecret))
		})
	}
	_, err = oauth2server.HashPassword(strings.Repeat("x", 73))
	assert.Error(t, err, "bcrypt refuses passwords over 72 bytes")
}

func TestTokenDigest(t *testing.T) {
	d := oauth2server.TokenDigest("abc")
	assert.Equal(t, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0", d)
	assert.NotEqual(t, d, oauth2server.TokenDigest("abd"))
}

func TestParseScope(t *testing.T) {
	var testCases = []struct {
		name      string
		given     string
		expect    []string
		expectErr bool
	}{
		{name: "ok, empty", given: "", expect: nil},
		{name: "ok, only spaces", given: "   ", expect: nil},
		{name: "ok, one", given: "read", expect: []string{"read"}},
		{name: "ok, order kept, duplicates dropped", given: "b a b", expect: []string{"b", "a"}},
		{name: "ok, every allowed character", given: "!#[]~", expect: []string{"!#[]~"}},
		{name: "nok, double quote", given: `a"`, expectErr: true},
		{name: "nok, backslash", given: `a\`, expectErr: true},
		{name: "nok, control character", given: "a\x01", expectErr: true},
		{name: "nok, DEL", given: "a\x7f", expectErr: true},
		{name: "nok, tab separator", given: "a\tb", expectErr: true},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := oauth2server.ParseScope(tc.given)
			if tc.expectErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "invalid_scope")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.expect, got)
		})
	}
	assert.Equal(t, "a b", oauth2server.FormatScope([]string{"a", "b"}))
	assert.True(t, oauth2server.ScopeCovers([]string{"a", "b"}, []string{"b"}))
	assert.True(t, oauth2server.ScopeCovers([]string{"a"}, nil))
	assert.False(t, oauth2server.ScopeCovers([]string{"a"}, []string{"a", "c"}))
}

// scopeVerifierModel refuses every scope but "ok".
type scopeVerifierModel struct{ *memorymodel.Model }

func (scopeVerifierModel) VerifyScope(_ context.Context, _ *oauth2server.Token, required []string) (bool, error) {
	if len(required) == 1 && required[0] == "fault" {
		return false, io.ErrUnexpectedEOF
	}
	return len(required) == 1 && required[0] == "ok", nil
}

func TestVerifyScope(t *testing.T) {
	ctx := context.Background()
	tok := &oauth2server.Token{Scope: []string{"read", "write"}}
	srv, err := oauth2server.New(memorymodel.New(), oauth2server.Options{})
	require.NoError(t, err)
	ok, err := srv.VerifyScope(ctx, tok, []string{"read"})
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = srv.VerifyScope(ctx, tok, []string{"admin"})
	require.NoError(t, err)
	assert.False(t, ok)

	srv, err = oauth2server.New(scopeVerifierModel{memorymodel.New()}, oauth2server.Options{})
	require.NoError(t, err)
	ok, err = srv.VerifyScope(ctx, tok, []string{"ok"})
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = srv.VerifyScope(ctx, tok, []string{"read"})
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = srv.VerifyScope(ctx, tok, []string{"fault"})
	assert.Contains(t, err.Error(), "server_error")
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

// A parsed scope must not share memory with the string it came from (a
// request body holding credentials), since stored tokens keep their scope.
func TestParseScopeCopies(t *testing.T) {
	body := []byte("grant_type=password&password=hunter2&scope=read write")
	param := string(body[len(body)-len("read write"):])
	scope, err := oauth2server.ParseScope(param)
	require.NoError(t, err)
	require.Equal(t, []string{"read", "write"}, scope)
	start := uintptr(unsafe.Pointer(unsafe.StringData(param)))
	for _, s := range scope {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		assert.False(t, p >= start && p < start+uintptr(len(param)), "scope token %q points into the request", s)
	}
}
