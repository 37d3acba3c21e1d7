package oauth2server_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// Capability finds a capability on a model or on the models it wraps, as
// New does.
func TestCapability(t *testing.T) {
	m := memorymodel.New()
	_, ok := oauth2server.Capability[oauth2server.RefreshTokenModel](minimalModel{m})
	assert.False(t, ok, "minimalModel hides it and wraps no Model")
	got, ok := oauth2server.Capability[oauth2server.RefreshTokenModel](unwrappingModel{minimalModel{m}})
	assert.True(t, ok, "found through Unwrap")
	assert.Same(t, m, got)
	_, ok = oauth2server.Capability[oauth2server.AccessTokenModel](nil)
	assert.False(t, ok)
}
