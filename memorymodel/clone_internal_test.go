package memorymodel

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// The single-allocation clones must behave like independent copies: no
// slice shares memory with the original or with a neighbouring slice, and
// nil and empty slices keep their meaning.
func TestCloneIndependent(t *testing.T) {
	t.Run("ok, token scopes are separate and capped", func(t *testing.T) {
		orig := &oauth2server.Token{Scope: []string{"a", "b"}, RefreshTokenScope: []string{"c"}}
		cp := cloneToken(orig)
		cp.Scope = append(cp.Scope, "x")
		cp.Scope[0] = "changed"
		assert.Equal(t, []string{"a", "b"}, orig.Scope)
		assert.Equal(t, []string{"c"}, cp.RefreshTokenScope, "append to Scope wrote into RefreshTokenScope")
	})
	t.Run("ok, nil stays nil and empty stays empty", func(t *testing.T) {
		cp := cloneToken(&oauth2server.Token{Scope: []string{}})
		require.NotNil(t, cp.Scope)
		assert.Empty(t, cp.Scope)
		assert.Nil(t, cp.RefreshTokenScope)
	})
	t.Run("ok, many scopes take the general path", func(t *testing.T) {
		orig := &oauth2server.Token{Scope: []string{"a", "b", "c", "d"}, Extra: map[string]any{"k": 1}}
		cp := cloneToken(orig)
		cp.Scope[0] = "changed"
		cp.Extra["k"] = 2
		assert.Equal(t, "a", orig.Scope[0])
		assert.Equal(t, 1, orig.Extra["k"])
	})
	t.Run("ok, client slices are separate and capped", func(t *testing.T) {
		orig := &oauth2server.Client{RedirectURIs: []string{"r"}, Grants: []string{"g1", "g2"}, Scopes: []string{"s"}}
		cp := cloneClient(orig)
		cp.RedirectURIs = append(cp.RedirectURIs, "x")
		cp.Grants = append(cp.Grants, "y")
		assert.Equal(t, []string{"g1", "g2"}, cp.Grants[:2])
		assert.Equal(t, []string{"s"}, cp.Scopes)
		assert.Equal(t, []string{"r"}, orig.RedirectURIs)
		assert.Nil(t, cloneClient(&oauth2server.Client{}).Scopes)
	})
	t.Run("ok, many client strings take the general path", func(t *testing.T) {
		orig := &oauth2server.Client{RedirectURIs: []string{"r1", "r2", "r3", "r4", "r5"},
			Grants: []string{"g1", "g2"}, Scopes: []string{"s1", "s2"}, Extra: map[string]any{"k": 1}}
		cp := cloneClient(orig)
		assert.Equal(t, orig, cp)
		cp.RedirectURIs[0], cp.Grants[0], cp.Scopes[0] = "changed", "changed", "changed"
		cp.Extra["k"] = 2
		assert.Equal(t, "r1", orig.RedirectURIs[0])
		assert.Equal(t, "g1", orig.Grants[0])
		assert.Equal(t, "s1", orig.Scopes[0])
		assert.Equal(t, 1, orig.Extra["k"])
	})
}
