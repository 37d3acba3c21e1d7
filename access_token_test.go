package oauth2server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/echo-oauth2/oauth2server"
	oautherrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

// An access token longer than any the server issues is refused before a
// lookup.
func TestValidateAccessTokenLengthCap(t *testing.T) {
	var m *countingModel
	e := newTestEnv(t, withModel(func(mm *memorymodel.Model) oauth2server.Model {
		m = &countingModel{Model: mm}
		return m
	}))
	_, err := e.srv.ValidateAccessToken(context.Background(), strings.Repeat("a", 65<<10))
	assert.Equal(t, "invalid_token", oautherrors.From(err).Code)
	assert.Zero(t, m.getAccess.Load(), "not looked up")
	_, err = e.srv.ValidateAccessToken(context.Background(), strings.Repeat("a", 64<<10))
	assert.Equal(t, "invalid_token", oautherrors.From(err).Code)
	assert.EqualValues(t, 1, m.getAccess.Load(), "looked up at the cap")
}
