package modeltest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/echo-oauth2/oauth2server"
)

// testUsers checks [oauth2server.PasswordModel].
func testUsers(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.PasswordModel](t, newSetup, "PasswordModel")
	ctx := context.Background()
	const password = "correct horse battery staple"
	// bcrypt's minimum cost keeps the suite fast under the race detector;
	// VerifySecret reads the cost from the hash.
	b, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(t, err)
	hash := string(b)
	// setup returns a model holding one user with the password above.
	setup := func(t *testing.T) (oauth2server.PasswordModel, *oauth2server.User) {
		s := newSetup(t)
		m := need[oauth2server.PasswordModel](t, s, "PasswordModel")
		if s.AddUser == nil {
			s.skip(t, "Setup.AddUser is nil")
		}
		u := &oauth2server.User{ID: random("user-"), Username: random("alice-"), Extra: map[string]any{"email": "alice@example.com"}}
		require.NoError(t, s.AddUser(ctx, u, hash))
		return m, u
	}

	t.Run("ok, right password returns the user", func(t *testing.T) {
		m, want := setup(t)
		got, err := m.GetUser(ctx, want.Username, password)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, want.ID, got.ID)
		assert.Equal(t, want.Username, got.Username)
		assertExtra(t, want.Extra, got.Extra, "Extra")
	})

	t.Run("ok, changing a returned user does not change the store", func(t *testing.T) {
		m, want := setup(t)
		got, err := m.GetUser(ctx, want.Username, password)
		require.NoError(t, err)
		require.NotNil(t, got)
		got.ID, got.Username = "changed", "changed"
		got.Extra["email"] = "mallory@example.com"
		got, err = m.GetUser(ctx, want.Username, password)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, want.ID, got.ID)
		assert.Equal(t, want.Username, got.Username)
		assertExtra(t, want.Extra, got.Extra, "Extra")
	})

	t.Run("ok, password hashed with HashSecret", func(t *testing.T) {
		s := newSetup(t)
		m := need[oauth2server.PasswordModel](t, s, "PasswordModel")
		if s.AddUser == nil {
			s.skip(t, "Setup.AddUser is nil")
		}
		u := &oauth2server.User{ID: random("user-"), Username: random("bob-")}
		require.NoError(t, s.AddUser(ctx, u, oauth2server.HashSecret("generated-secret")))
		got, err := m.GetUser(ctx, u.Username, "generated-secret")
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, u.ID, got.ID)
	})

	for _, tc := range []struct {
		name               string
		username, password func(u *oauth2server.User) string
	}{
		{"nok, wrong password is nil", func(u *oauth2server.User) string { return u.Username }, func(*oauth2server.User) string { return "wrong" }},
		{"nok, empty password is nil", func(u *oauth2server.User) string { return u.Username }, func(*oauth2server.User) string { return "" }},
		{"nok, unknown user is nil", func(*oauth2server.User) string { return "no-such-user" }, func(*oauth2server.User) string { return password }},
		{"nok, user id is not a username", func(u *oauth2server.User) string { return u.ID }, func(*oauth2server.User) string { return password }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, u := setup(t)
			got, err := m.GetUser(ctx, tc.username(u), tc.password(u))
			require.NoError(t, err)
			assert.Nil(t, got)
		})
	}

	t.Run("nok, cancelled context", func(t *testing.T) {
		m, u := setup(t)
		got, err := m.GetUser(cancelled(), u.Username, password)
		assert.Error(t, err)
		assert.Nil(t, got)
	})
}

// testClientUsers checks [oauth2server.ClientUserModel].
func testClientUsers(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.ClientUserModel](t, newSetup, "ClientUserModel")
	ctx := context.Background()
	// setup returns a model with a client acting for a user.
	setup := func(t *testing.T) (oauth2server.ClientUserModel, *oauth2server.Client, *oauth2server.User) {
		s := newSetup(t)
		m := need[oauth2server.ClientUserModel](t, s, "ClientUserModel")
		if s.AddUser == nil || s.SetClientUser == nil {
			s.skip(t, "Setup.AddUser or Setup.SetClientUser is nil")
		}
		c := fullClient()
		require.NoError(t, s.AddClient(ctx, c))
		u := &oauth2server.User{ID: random("user-"), Username: random("svc-")}
		require.NoError(t, s.AddUser(ctx, u, oauth2server.HashSecret("x")))
		require.NoError(t, s.SetClientUser(ctx, c.ID, u.Username))
		return m, c, u
	}

	t.Run("ok, the client's user", func(t *testing.T) {
		m, c, u := setup(t)
		got, err := m.GetUserFromClient(ctx, c)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, u.ID, got.ID)
		assert.Equal(t, u.Username, got.Username)
	})

	t.Run("ok, a client without user is nil", func(t *testing.T) {
		m, _, _ := setup(t)
		got, err := m.GetUserFromClient(ctx, fullClient())
		require.NoError(t, err)
		assert.Nil(t, got)
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		m, c, _ := setup(t)
		got, err := m.GetUserFromClient(cancelled(), c)
		assert.Error(t, err)
		assert.Nil(t, got)
	})
}
