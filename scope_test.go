package oauth2server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
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

// scopeOf returns n distinct syntactically valid scope tokens.
func scopeOf(n int) string {
	toks := make([]string, n)
	for i := range toks {
		toks[i] = fmt.Sprintf("s%d", i)
	}
	return strings.Join(toks, " ")
}

// a scope over the caps is invalid_request at once, before
// the client is looked up or its secret hashed; below the caps the scope
// is judged as usual.
func TestScopeCapsAtTokenEndpoint(t *testing.T) {
	tests := []struct {
		name        string
		givenOpts   func(*oauth2server.Options)
		givenScope  string
		expectCode  string
		expectStore bool // the client was looked up
	}{
		{name: "nok, 101 tokens", givenScope: scopeOf(101), expectCode: "invalid_request"},
		{name: "nok, 100k tokens", givenScope: scopeOf(100_000), expectCode: "invalid_request"},
		{name: "nok, over 4 KiB in one token", givenScope: strings.Repeat("a", 4097), expectCode: "invalid_request"},
		{name: "nok, 100 tokens judged by the client's scopes", givenScope: scopeOf(100), expectCode: "invalid_scope", expectStore: true},
		{name: "nok, duplicates count", givenScope: strings.TrimSpace(strings.Repeat("read ", 101)), expectCode: "invalid_request"},
		{name: "ok, 100 duplicates", givenScope: strings.TrimSpace(strings.Repeat("read ", 100)), expectStore: true},
		{name: "ok, doubled spaces do not count as tokens", givenScope: "read" + strings.Repeat(" ", 200) + "write", expectStore: true},
		{name: "nok, a lower cap", givenOpts: func(o *oauth2server.Options) { o.MaxScopeTokens = 1 }, givenScope: "read write", expectCode: "invalid_request"},
		{name: "ok, a higher cap", givenOpts: func(o *oauth2server.Options) { o.MaxScopeTokens, o.MaxScopeBytes = 200, 1<<20 }, givenScope: scopeOf(150),
			expectCode: "invalid_scope", expectStore: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m *countingModel
			e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
				m = &countingModel{Model: mm}
				return m
			}), withOptions(tt.givenOpts))
			body := url.Values{"grant_type": {"client_credentials"}, "scope": {tt.givenScope}}.Encode()
			if len(body) > 64<<10 {
				// Over the body cap the answer is 413; the scope cap is
				// what bounds a scope inside an acceptable body.
				body = body[:64<<10]
				tt.givenScope = ""
			}
			r := e.serve(tokenReq{body: body, auth: basic(confID, confSecret)})
			if tt.expectCode == "" {
				assert.Equal(t, http.StatusOK, r.status, r.raw)
			} else {
				assert.Equal(t, http.StatusBadRequest, r.status, r.raw)
				assert.Contains(t, r.raw, `"error":"`+tt.expectCode+`"`)
			}
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
			assert.Equal(t, tt.expectStore, m.getClient.Load() > 0, "client looked up")
		})
	}
}

// R-108 at the authorization endpoint, which runs before any login: the
// error is redirected like any invalid request of a known client; a query
// over the size cap is shown, not redirected, and nothing is looked up.
func TestScopeCapsAtAuthorizationEndpoint(t *testing.T) {
	var m *countingModel
	e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
		m = &countingModel{Model: mm}
		return m
	}))
	q := url.Values{"response_type": {"code"}, "client_id": {confID}, "redirect_uri": {testRedirect}, "state": {"st"}}

	q.Set("scope", scopeOf(101))
	_, err := e.srv.ValidateAuthorizeRequest(httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil))
	var ae *oauth2server.AuthorizeError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "invalid_request", oautherrors.From(err).Code)
	assert.False(t, ae.ShowToUser(), "a known client with a valid redirect URI gets the error redirected")

	q.Set("scope", scopeOf(100_000))
	m.getClient.Store(0)
	_, err = e.srv.ValidateAuthorizeRequest(httptest.NewRequest(http.MethodGet, "/authorize?"+q.Encode(), nil))
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "invalid_request", oautherrors.From(err).Code)
	assert.True(t, ae.ShowToUser(), "an oversized query is shown, never redirected")
	assert.Zero(t, m.getClient.Load(), "refused before any lookup")
}

// R-108 at the device authorization endpoint.
func TestScopeCapsAtDeviceAuthorization(t *testing.T) {
	e := newTestEnv(t)
	r := e.deviceAuthorization(url.Values{"client_id": {tvID}, "scope": {scopeOf(101)}}, "", "")
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, "invalid_request", r.errorCode())
}

func TestParseScopeLongListsKeepOrderWithoutDuplicates(t *testing.T) {
	var in []string
	for i := range 1000 {
		in = append(in, fmt.Sprint("s", i%300))
	}
	got, err := oauth2server.ParseScope(strings.Join(in, " "))
	require.NoError(t, err)
	require.Len(t, got, 300)
	for i, s := range got {
		assert.Equal(t, fmt.Sprint("s", i), s)
	}
	assert.True(t, oauth2server.ScopeCovers(got, got[:299]))
	assert.False(t, oauth2server.ScopeCovers(got[1:], got))
}

// parseScopeNaive is the obvious quadratic reference for FuzzParseScope.
func parseScopeNaive(s string) ([]string, bool) {
	var out []string
	for _, tok := range strings.Split(s, " ") {
		if tok == "" {
			continue
		}
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
				return nil, false
			}
		}
		dup := false
		for _, o := range out {
			dup = dup || o == tok
		}
		if !dup {
			out = append(out, tok)
		}
	}
	return out, true
}

// The linear parser agrees with the naive one on every input.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"", "a", "a b a", "  a  b ", "a\"b", scopeOf(20) + " s3 s19", "é", "a\tb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := oauth2server.ParseScope(s)
		want, ok := parseScopeNaive(s)
		if !ok {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})
}

// ParseScope is linear: ns/op grows tenfold from 10k to 100k tokens (it
// grew a hundredfold with the quadratic de-duplication).
func BenchmarkParseScope(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		s := scopeOf(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := oauth2server.ParseScope(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
