package mongomodel

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/echo-oauth2/oauth2server"
)

// the dummy checked for an unknown username follows the kind and
// cost of the hashes the Model stores or reads, so timing does not tell
// unknown names from known ones.
func TestDummyFollowsStoredHashes(t *testing.T) {
	t.Parallel()
	m := &Model{}
	assert.Nil(t, m.dummy.Load(), "bcrypt at the default cost until a hash is seen")

	m.noteHash(oauth2server.HashSecret("pw"))
	require.NotNil(t, m.dummy.Load())
	assert.True(t, strings.HasPrefix(*m.dummy.Load(), "sha256:"))

	h, err := bcrypt.GenerateFromPassword([]byte("pw"), 5)
	require.NoError(t, err)
	m.noteHash(string(h))
	cost, err := bcrypt.Cost([]byte(*m.dummy.Load()))
	require.NoError(t, err)
	assert.Equal(t, 5, cost)

	first := m.dummy.Load()
	m.noteHash(string(h))
	assert.Same(t, first, m.dummy.Load(), "not recomputed for the same kind")

	assert.True(t, sameHashKind(oauth2server.HashSecret("a"), "garbage"))
	assert.False(t, sameHashKind(string(h), oauth2server.HashSecret("a")))
}
