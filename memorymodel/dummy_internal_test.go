package memorymodel

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/echo-oauth2/oauth2server"
)

// GetUser for an unknown name verifies against a dummy of the same
// kind and cost as the stored password hashes.
func TestDummyFollowsStoredHashes(t *testing.T) {
	t.Parallel()
	m := New()
	u, err := m.GetUser(context.Background(), "nobody", "pw")
	require.NoError(t, err)
	assert.Nil(t, u)

	h, err := bcrypt.GenerateFromPassword([]byte("pw"), 5)
	require.NoError(t, err)
	require.NoError(t, m.AddUser(context.Background(), &oauth2server.User{ID: "1", Username: "alice"}, string(h)))
	cost, err := bcrypt.Cost([]byte(m.dummyHash))
	require.NoError(t, err)
	assert.Equal(t, 5, cost)

	require.NoError(t, m.AddUser(context.Background(), &oauth2server.User{ID: "2", Username: "bob"}, oauth2server.HashSecret("pw")))
	assert.True(t, strings.HasPrefix(m.dummyHash, "sha256:"))
	u, err = m.GetUser(context.Background(), "nobody", "pw")
	require.NoError(t, err)
	assert.Nil(t, u)
}
