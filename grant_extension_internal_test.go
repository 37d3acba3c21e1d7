package oauth2server

import (
	"context"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An extension grant gets parameters that do not share memory with the
// request body: keeping one must not keep a body with a password alive.
func TestExtensionGrantParamsAreCopies(t *testing.T) {
	body := []byte("assertion=abcdef&password=secret")
	inBody := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		start := uintptr(unsafe.Pointer(&body[0]))
		return p >= start && p < start+uintptr(len(body))
	}
	aliased := unsafe.String(&body[10], 6) // "abcdef", as the form parser hands it out
	require.True(t, inBody(aliased))

	srv, err := New(nopModel{}, Options{Grants: []string{}})
	require.NoError(t, err)
	var kept map[string]string
	grant := ExtensionGrantFunc(func(_ context.Context, req *TokenRequest) (*GrantResult, error) {
		kept = req.Params
		return &GrantResult{}, nil
	})
	req := &TokenRequest{GrantType: "urn:example:grant", Client: &Client{ID: "c"}, Params: map[string]string{"assertion": aliased}}
	_, err = srv.extensionGrant(context.Background(), grant, req)
	require.NoError(t, err)
	assert.Equal(t, "abcdef", kept["assertion"])
	assert.False(t, inBody(kept["assertion"]), "a copy")
	assert.True(t, inBody(req.Params["assertion"]), "the caller's request is not changed")
}
