package oauth2server_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/echo-oauth2/oauth2server"
)

// the dummy a model checks for an unknown name has the kind and cost
// of the stored hashes, so an unknown name costs what a wrong password does.
func TestDummyHashLike(t *testing.T) {
	t.Parallel()
	b4, err := bcrypt.GenerateFromPassword([]byte("pw"), 4)
	require.NoError(t, err)
	d := oauth2server.DummyHashLike(string(b4))
	cost, err := bcrypt.Cost([]byte(d))
	require.NoError(t, err)
	assert.Equal(t, 4, cost)
	assert.Equal(t, d, oauth2server.DummyHashLike(string(b4)), "one dummy per cost")
	assert.False(t, oauth2server.VerifySecret(d, "pw"))
	assert.False(t, oauth2server.VerifySecret(d, ""))

	for _, h := range []string{oauth2server.HashSecret("x"), "garbage", ""} {
		d := oauth2server.DummyHashLike(h)
		assert.True(t, strings.HasPrefix(d, "sha256:"), h)
		assert.False(t, oauth2server.VerifySecret(d, "x"))
	}
}
