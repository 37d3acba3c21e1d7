package oauth2server_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/echo-oauth2/oauth2server"
)

// secrets are stored hashed and verified by digest.
func TestVerifySecret(t *testing.T) {
	bcryptHash, err := oauth2server.HashPassword("hunter2")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(bcryptHash, "$2a$"))
	sha := oauth2server.HashSecret("s3cret")
	assert.True(t, strings.HasPrefix(sha, "sha256:"))
	assert.NotContains(t, sha, "s3cret")

	var testCases = []struct {
		name        string
		givenHash   string
		givenSecret string
		expect      bool
	}{
		{"ok, sha256", sha, "s3cret", true},
		{"ok, bcrypt", bcryptHash, "hunter2", true},
		{"ok, bcrypt $2b$", "$2b$" + bcryptHash[4:], "hunter2", true},
		{"nok, sha256 wrong secret", sha, "s3cres", false},
		{"nok, sha256 empty secret", sha, "", false},
		{"nok, bcrypt wrong secret", bcryptHash, "hunter3", false},
		{"nok, sha256 digest not base64url", "sha256:***", "s3cret", false},
		{"nok, sha256 digest too short", "sha256:AAAA", "s3cret", false},
		{"nok, plain text stored secret", "s3cret", "s3cret", false},
		{"nok, empty hash", "", "", false},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.expect, oauth2server.VerifySecret(tc.givenHash, tc.givenSecret))
		})
	}
	_, err = oauth2server.HashPassword(strings.Repeat("x", 73))
	assert.Error(t, err, "bcrypt refuses passwords over 72 bytes")
}

func TestTokenDigest(t *testing.T) {
	d := oauth2server.TokenDigest("abc")
	assert.Equal(t, "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0", d)
	assert.NotEqual(t, d, oauth2server.TokenDigest("abd"))
}

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
