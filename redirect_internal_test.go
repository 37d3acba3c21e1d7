package oauth2server

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// only the port of an http loopback IP literal may vary.
func TestLoopbackKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		uri       string
		expectKey string
		expectOK  bool
	}{
		{"http://127.0.0.1/cb", "http://127.0.0.1/cb", true},
		{"http://127.0.0.1:8080/cb", "http://127.0.0.1/cb", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1", true},
		{"http://127.0.0.1:8080?x=1", "http://127.0.0.1?x=1", true},
		{"http://[::1]:9/cb", "http://[::1]/cb", true},
		{"http://127.0.0.1:/cb", "", false},
		{"http://127.0.0.1:1234567/cb", "", false},
		{"http://127.0.0.1:80@evil.example/", "", false},
		{"http://127.0.0.1.evil.example/", "", false},
		{"http://127.0.0.10/cb", "", false},
		{"https://127.0.0.1:8080/cb", "", false},
		{"http://localhost:8080/cb", "", false},
	}
	for _, tc := range tests {
		key, ok := loopbackKey(tc.uri)
		assert.Equal(t, tc.expectOK, ok, tc.uri)
		assert.Equal(t, tc.expectKey, key, tc.uri)
	}
}

//
func TestCheckRedirectURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		uri       string
		expectErr error
	}{
		{"https://client.example/cb", nil},
		{"https://client.example/cb?x=1", nil},
		{"com.example.app:/oauth2redirect", nil},
		{"http://127.0.0.1:8080/cb", nil},
		{"http://[::1]/cb", nil},
		{"http://client.example/cb", errRedirectInsecure},
		{"http://localhost/cb", errRedirectInsecure},
		{"https:///cb", errRedirectSyntax},
		{"https://client.example/cb#", errRedirectSyntax},
		{"https://u:p@client.example/cb", errRedirectSyntax},
		{"/cb", errRedirectSyntax},
		{"javascript:alert(1)", errRedirectSyntax},
		{"DATA:text/html,x", errRedirectSyntax},
		{"https://client.example/c b", errRedirectSyntax},
		{"https://client.example/cé", errRedirectSyntax},
		{"https://client.example/%zz", errRedirectSyntax},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.expectErr, checkRedirectURI(tc.uri), tc.uri)
	}
}

// parameters are appended without rewriting the registered URI.
func TestAppendParams(t *testing.T) {
	t.Parallel()
	v := url.Values{"code": {"c"}, "state": {"a b"}}
	assert.Equal(t, "https://c.example/cb?code=c&state=a+b", appendParams("https://c.example/cb", v, false))
	assert.Equal(t, "https://c.example/cb?x=%41&code=c&state=a+b", appendParams("https://c.example/cb?x=%41", v, false))
	assert.Equal(t, "https://c.example/cb?code=c&state=a+b", appendParams("https://c.example/cb?", v, false))
	assert.Equal(t, "https://c.example/cb?x=1&code=c&state=a+b", appendParams("https://c.example/cb?x=1&", v, false))
	assert.Equal(t, "https://c.example/cb#code=c&state=a+b", appendParams("https://c.example/cb", v, true))
}

// A model's RedirectURIValidator replaces exact matching, but not the
// syntax rules, and the request must then name its redirect URI.
func TestRedirectURIValidator(t *testing.T) {
	t.Parallel()
	m := &redirectModel{clients: map[string]*Client{"c": {ID: "c", SecretHash: HashSecret("s"), RedirectURIs: []string{"https://a.example/cb"}}},
		allow: "https://b.example/cb"}
	srv, err := New(m, Options{AllowImplicitGrant: true})
	require.NoError(t, err)
	ctx := context.Background()
	got, err := srv.resolveRedirectURI(ctx, m.clients["c"], "https://b.example/cb")
	require.NoError(t, err)
	assert.Equal(t, "https://b.example/cb", got)
	_, err = srv.resolveRedirectURI(ctx, m.clients["c"], "https://a.example/cb")
	assert.Equal(t, errRedirectUnknown, err)
	_, err = srv.resolveRedirectURI(ctx, m.clients["c"], "")
	assert.Equal(t, errRedirectMissing, err)
	_, err = srv.resolveRedirectURI(ctx, m.clients["c"], "http://b.example/cb")
	assert.Equal(t, errRedirectInsecure, err)
	m.fail = true
	_, err = srv.resolveRedirectURI(ctx, m.clients["c"], "https://b.example/cb")
	assert.True(t, oerrors.IsServerError(err))
}
