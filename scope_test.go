package oauth2server_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

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

// A ScopeValidator decides the scope; a nil result for a requested scope
// is a refusal (node's falsy result).
func TestScopeValidatorModel(t *testing.T) {
	env := newTestEnv(t, withModel(func(m *memorymodel.Model) oauth2server.Model { return &faultModel{Model: m, fail: map[string]bool{}} }))
	r := env.serve(tokenReq{body: "grant_type=client_credentials", auth: basic(confID, confSecret)})
	requireOK(t, r)
	assert.Equal(t, "default", r.body["scope"])
	assert.Equal(t, "generated-access", r.body["access_token"])
	r = env.serve(tokenReq{body: "grant_type=client_credentials&scope=anything", auth: basic(confID, confSecret)})
	requireOK(t, r)
	assert.Equal(t, "anything", r.body["scope"])
	r = env.serve(tokenReq{body: "grant_type=client_credentials&scope=refuse", auth: basic(confID, confSecret)})
	requireError(t, r, http.StatusBadRequest, "invalid_scope", false)
}
