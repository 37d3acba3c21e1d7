package memorymodel_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/memorymodel"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newModel() (*memorymodel.Model, *testClock) {
	clk := &testClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	return memorymodel.New(memorymodel.WithClock(clk.Now)), clk
}

func TestCopiesInAndOut(t *testing.T) {
	ctx := context.Background()
	m, clk := newModel()

	t.Run("clients", func(t *testing.T) {
		c := &oauth2server.Client{ID: "c", Scopes: []string{"read"}, Grants: []string{"client_credentials"},
			RedirectURIs: []string{"https://a/cb"}, Extra: map[string]any{"k": "v"}}
		require.NoError(t, m.AddClient(context.Background(), c))
		c.Scopes[0] = "admin"
		c.Grants[0] = "password"
		c.RedirectURIs[0] = "https://evil/cb"
		c.Extra["k"] = "changed"
		got, err := m.GetClient(ctx, "c")
		require.NoError(t, err)
		assert.Equal(t, []string{"read"}, got.Scopes)
		assert.Equal(t, []string{"client_credentials"}, got.Grants)
		assert.Equal(t, []string{"https://a/cb"}, got.RedirectURIs)
		assert.Equal(t, "v", got.Extra["k"])

		got.Scopes[0] = "admin"
		got.Extra["k"] = "changed"
		again, err := m.GetClient(ctx, "c")
		require.NoError(t, err)
		assert.Equal(t, []string{"read"}, again.Scopes)
		assert.Equal(t, "v", again.Extra["k"])
	})
	t.Run("tokens", func(t *testing.T) {
		tok := &oauth2server.Token{AccessToken: "at", RefreshToken: "rt", Scope: []string{"read"},
			RefreshTokenScope: []string{"read", "write"}, Extra: map[string]any{"k": "v"},
			AccessTokenExpiresAt: clk.Now().Add(time.Hour), RefreshTokenExpiresAt: clk.Now().Add(time.Hour)}
		require.NoError(t, m.SaveToken(ctx, tok, nil, nil))
		tok.Scope[0] = "admin"
		tok.RefreshTokenScope[1] = "admin"
		tok.Extra["k"] = "changed"
		tok.Revoked = true
		got, err := m.GetAccessToken(ctx, "at")
		require.NoError(t, err)
		assert.Equal(t, []string{"read"}, got.Scope)
		assert.Equal(t, []string{"read", "write"}, got.RefreshTokenScope)
		assert.Equal(t, "v", got.Extra["k"])
		assert.False(t, got.Revoked)
		got.Scope[0] = "admin"
		got.Revoked = true
		again, err := m.GetRefreshToken(ctx, "rt")
		require.NoError(t, err)
		assert.Equal(t, []string{"read"}, again.Scope)
		assert.False(t, again.Revoked)
	})
	t.Run("codes", func(t *testing.T) {
		code := &oauth2server.AuthorizationCode{Code: "c", Scope: []string{"read"}, ExpiresAt: clk.Now().Add(time.Minute),
			Extra: map[string]any{"k": "v"}}
		require.NoError(t, m.SaveAuthorizationCode(ctx, code, nil, nil))
		code.Scope[0] = "admin"
		code.Extra["k"] = "changed"
		got, err := m.GetAuthorizationCode(ctx, "c")
		require.NoError(t, err)
		assert.Equal(t, []string{"read"}, got.Scope)
		assert.Equal(t, "v", got.Extra["k"])
		got.Revoked = true
		again, err := m.GetAuthorizationCode(ctx, "c")
		require.NoError(t, err)
		assert.False(t, again.Revoked)
	})
	t.Run("users", func(t *testing.T) {
		u := &oauth2server.User{ID: "u1", Username: "alice", Extra: map[string]any{"k": "v"}}
		require.NoError(t, m.AddUser(context.Background(), u, oauth2server.HashSecret("pw")))
		u.ID = "changed"
		u.Extra["k"] = "changed"
		got, err := m.GetUser(ctx, "alice", "pw")
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, "u1", got.ID)
		assert.Equal(t, "v", got.Extra["k"])
		got.Extra["k"] = "changed"
		again, err := m.GetUser(ctx, "alice", "pw")
		require.NoError(t, err)
		assert.Equal(t, "v", again.Extra["k"])
	})
}

func TestAddClientAndUserErrors(t *testing.T) {
	m, _ := newModel()
	require.NoError(t, m.AddClient(context.Background(), &oauth2server.Client{ID: "c"}))
	assert.ErrorIs(t, m.AddClient(context.Background(), &oauth2server.Client{ID: "c"}), memorymodel.ErrDuplicate)
	assert.Error(t, m.AddClient(context.Background(), &oauth2server.Client{}))
	assert.Error(t, m.AddClient(context.Background(), nil))

	require.NoError(t, m.AddUser(context.Background(), &oauth2server.User{ID: "u1", Username: "alice"}, "x"))
	assert.ErrorIs(t, m.AddUser(context.Background(), &oauth2server.User{ID: "u2", Username: "alice"}, "y"), memorymodel.ErrDuplicate)
	assert.Error(t, m.AddUser(context.Background(), &oauth2server.User{ID: "u3"}, "y"))
	assert.Error(t, m.AddUser(context.Background(), &oauth2server.User{Username: "bob"}, "y"))
	assert.Error(t, m.AddUser(context.Background(), nil, "y"))

	c, err := m.GetClient(context.Background(), "nope")
	assert.NoError(t, err)
	assert.Nil(t, c)
}

func TestGetUser(t *testing.T) {
	ctx := context.Background()
	m, _ := newModel()
	bcryptHash, err := oauth2server.HashPassword("correct horse")
	require.NoError(t, err)
	require.NoError(t, m.AddUser(context.Background(), &oauth2server.User{ID: "u1", Username: "alice"}, bcryptHash))
	require.NoError(t, m.AddUser(context.Background(), &oauth2server.User{ID: "u2", Username: "bob"}, oauth2server.HashSecret("battery staple")))

	var testCases = []struct {
		name         string
		givenUser    string
		givenPass    string
		expectUserID string
	}{
		{"ok, bcrypt hash", "alice", "correct horse", "u1"},
		{"ok, sha256 hash", "bob", "battery staple", "u2"},
		{"nok, wrong password", "alice", "correct horse ", ""},
		{"nok, another user's password", "bob", "correct horse", ""},
		{"nok, unknown user", "carol", "correct horse", ""},
		{"nok, empty password", "alice", "", ""},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := m.GetUser(ctx, tc.givenUser, tc.givenPass)
			require.NoError(t, err, "not found is (nil, nil)")
			if tc.expectUserID == "" {
				assert.Nil(t, u)
				return
			}
			require.NotNil(t, u)
			assert.Equal(t, tc.expectUserID, u.ID)
		})
	}
}

func TestGetUserFromClient(t *testing.T) {
	ctx := context.Background()
	m, _ := newModel()
	require.NoError(t, m.AddUser(context.Background(), &oauth2server.User{ID: "u1", Username: "alice"}, "x"))
	c := &oauth2server.Client{ID: "svc"}
	require.NoError(t, m.AddClient(ctx, c))

	u, err := m.GetUserFromClient(ctx, c)
	require.NoError(t, err)
	assert.Nil(t, u)

	require.NoError(t, m.SetClientUser(ctx, "svc", "ghost"))
	u, err = m.GetUserFromClient(ctx, c)
	require.NoError(t, err)
	assert.Nil(t, u)

	require.NoError(t, m.SetClientUser(ctx, "svc", "alice"))
	assert.Error(t, m.SetClientUser(ctx, "no-such-client", "alice"), "an unknown client")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.Error(t, m.SetClientUser(cancelled, "svc", "alice"), "a cancelled context")
	assert.Error(t, m.AddClient(cancelled, &oauth2server.Client{ID: "late"}), "a cancelled context")
	assert.Error(t, m.AddUser(cancelled, &oauth2server.User{ID: "u-late", Username: "late"}, "x"), "a cancelled context")
	u, err = m.GetUserFromClient(ctx, c)
	require.NoError(t, err)
	require.NotNil(t, u)
	assert.Equal(t, "u1", u.ID)
}

func TestRevokeToken(t *testing.T) {
	ctx := context.Background()
	m, clk := newModel()
	tok := &oauth2server.Token{AccessToken: "at", RefreshToken: "rt", GrantID: "g",
		AccessTokenExpiresAt: clk.Now().Add(time.Hour), RefreshTokenExpiresAt: clk.Now().Add(time.Hour)}
	require.NoError(t, m.SaveToken(ctx, tok, nil, nil))

	ok, err := m.RevokeToken(ctx, tok)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = m.RevokeToken(ctx, tok)
	require.NoError(t, err)
	assert.False(t, ok, "second revocation reports false")

	// The access and the refresh token are one record.
	at, _ := m.GetAccessToken(ctx, "at")
	rt, _ := m.GetRefreshToken(ctx, "rt")
	assert.True(t, at.Revoked)
	assert.True(t, rt.Revoked)

	ok, err = m.RevokeToken(ctx, &oauth2server.Token{AccessToken: "unknown"})
	require.NoError(t, err)
	assert.False(t, ok)

	// Found by its refresh token when the access token is unknown.
	require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: "at2", RefreshToken: "rt2"}, nil, nil))
	ok, err = m.RevokeToken(ctx, &oauth2server.Token{AccessToken: "gone", RefreshToken: "rt2"})
	require.NoError(t, err)
	assert.True(t, ok)
}

// RevokeGrant revokes the family and leaves a tombstone, so
// that a token or code saved later for the family is stored revoked.
func TestRevokeGrantTombstone(t *testing.T) {
	ctx := context.Background()
	m, clk := newModel()
	exp := clk.Now().Add(time.Hour)
	require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: "a1", RefreshToken: "r1", GrantID: "g",
		AccessTokenExpiresAt: exp, RefreshTokenExpiresAt: exp}, nil, nil))
	require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: "other", GrantID: "h", AccessTokenExpiresAt: exp}, nil, nil))
	require.NoError(t, m.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{Code: "c1", GrantID: "g", ExpiresAt: exp}, nil, nil))

	require.NoError(t, m.RevokeGrant(ctx, "g"))
	a1, _ := m.GetAccessToken(ctx, "a1")
	r1, _ := m.GetRefreshToken(ctx, "r1")
	c1, _ := m.GetAuthorizationCode(ctx, "c1")
	other, _ := m.GetAccessToken(ctx, "other")
	assert.True(t, a1.Revoked)
	assert.True(t, r1.Revoked)
	assert.True(t, c1.Revoked)
	assert.False(t, other.Revoked, "another family is untouched")

	require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: "a2", RefreshToken: "r2", GrantID: "g",
		AccessTokenExpiresAt: exp, RefreshTokenExpiresAt: exp}, nil, nil))
	a2, _ := m.GetAccessToken(ctx, "a2")
	assert.True(t, a2.Revoked, "saved after RevokeGrant")
	require.NoError(t, m.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{Code: "c2", GrantID: "g", ExpiresAt: exp}, nil, nil))
	c2, _ := m.GetAuthorizationCode(ctx, "c2")
	assert.True(t, c2.Revoked)

	// Tokens without a family are never caught by a tombstone.
	require.NoError(t, m.RevokeGrant(ctx, ""))
	require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: "a3", AccessTokenExpiresAt: exp}, nil, nil))
	a3, _ := m.GetAccessToken(ctx, "a3")
	assert.False(t, a3.Revoked)

	// The tombstone outlives any refresh token, then is dropped.
	clk.Add(91 * 24 * time.Hour)
	m.Sweep()
	require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: "a4", GrantID: "g", AccessTokenExpiresAt: clk.Now().Add(time.Hour)}, nil, nil))
	a4, _ := m.GetAccessToken(ctx, "a4")
	assert.False(t, a4.Revoked)
}

func TestRevokeAuthorizationCodeOnce(t *testing.T) {
	ctx := context.Background()
	m, clk := newModel()
	code := &oauth2server.AuthorizationCode{Code: "c", ExpiresAt: clk.Now().Add(time.Minute)}
	require.NoError(t, m.SaveAuthorizationCode(ctx, code, nil, nil))

	// the goroutines are released together so that they really
	// overlap, and a loser must report (false, nil), not an error.
	var wins atomic.Int32
	var start, wg sync.WaitGroup
	start.Add(1)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			ok, err := m.RevokeAuthorizationCode(ctx, code)
			assert.NoError(t, err)
			if ok {
				wins.Add(1)
			}
		}()
	}
	start.Done()
	wg.Wait()
	assert.EqualValues(t, 1, wins.Load())
	got, _ := m.GetAuthorizationCode(ctx, "c")
	assert.True(t, got.Revoked, "redeemed codes are kept to detect replay")

	ok, err := m.RevokeAuthorizationCode(ctx, &oauth2server.AuthorizationCode{Code: "unknown"})
	require.NoError(t, err)
	assert.False(t, ok)
	c, err := m.GetAuthorizationCode(ctx, "unknown")
	require.NoError(t, err)
	assert.Nil(t, c)
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	m, clk := newModel()
	now := clk.Now()
	save := func(tok *oauth2server.Token) { require.NoError(t, m.SaveToken(ctx, tok, nil, nil)) }
	save(&oauth2server.Token{AccessToken: "at-expired", AccessTokenExpiresAt: now.Add(time.Minute)})
	save(&oauth2server.Token{AccessToken: "at-live", AccessTokenExpiresAt: now.Add(time.Hour)})
	save(&oauth2server.Token{AccessToken: "at-with-live-rt", RefreshToken: "rt-live",
		AccessTokenExpiresAt: now.Add(time.Minute), RefreshTokenExpiresAt: now.Add(time.Hour)})
	save(&oauth2server.Token{AccessToken: "at-with-dead-rt", RefreshToken: "rt-expired",
		AccessTokenExpiresAt: now.Add(time.Minute), RefreshTokenExpiresAt: now.Add(2 * time.Minute)})
	save(&oauth2server.Token{AccessToken: "at-with-eternal-rt", RefreshToken: "rt-eternal",
		AccessTokenExpiresAt: now.Add(time.Minute)})
	require.NoError(t, m.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{Code: "code-expired", ExpiresAt: now.Add(time.Minute)}, nil, nil))
	require.NoError(t, m.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{Code: "code-live", ExpiresAt: now.Add(time.Hour)}, nil, nil))

	clk.Add(30 * time.Minute)
	m.Sweep()

	access := func(s string) *oauth2server.Token { tok, _ := m.GetAccessToken(ctx, s); return tok }
	refresh := func(s string) *oauth2server.Token { tok, _ := m.GetRefreshToken(ctx, s); return tok }
	code := func(s string) *oauth2server.AuthorizationCode { c, _ := m.GetAuthorizationCode(ctx, s); return c }
	assert.Nil(t, access("at-expired"))
	assert.NotNil(t, access("at-live"))
	assert.NotNil(t, access("at-with-live-rt"), "kept while its refresh token lives")
	assert.NotNil(t, refresh("rt-live"))
	assert.Nil(t, access("at-with-dead-rt"))
	assert.Nil(t, refresh("rt-expired"))
	assert.NotNil(t, refresh("rt-eternal"), "a zero expiry never expires")
	assert.Nil(t, code("code-expired"))
	assert.NotNil(t, code("code-live"))
}

// Expired items are also dropped without calling Sweep, as writes go on:
// each of the model's shards sweeps itself after 16 writes at the least,
// and 4096 writes of distinct codes reach every shard that often.
func TestAutomaticSweep(t *testing.T) {
	ctx := context.Background()
	m, clk := newModel()
	require.NoError(t, m.SaveToken(ctx, &oauth2server.Token{AccessToken: "old", AccessTokenExpiresAt: clk.Now().Add(time.Second)}, nil, nil))
	clk.Add(time.Minute)
	for i := range 4096 {
		require.NoError(t, m.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{Code: "c" + strconv.Itoa(i), ExpiresAt: clk.Now().Add(time.Hour)}, nil, nil))
	}
	tok, err := m.GetAccessToken(ctx, "old")
	require.NoError(t, err)
	assert.Nil(t, tok)
}

func TestCanceledContext(t *testing.T) {
	m, _ := newModel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.GetClient(ctx, "c")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, m.SaveToken(ctx, &oauth2server.Token{}, nil, nil), context.Canceled)
	_, err = m.GetAccessToken(ctx, "a")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = m.GetRefreshToken(ctx, "r")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = m.RevokeToken(ctx, &oauth2server.Token{})
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, m.RevokeGrant(ctx, "g"), context.Canceled)
	assert.ErrorIs(t, m.SaveAuthorizationCode(ctx, &oauth2server.AuthorizationCode{}, nil, nil), context.Canceled)
	_, err = m.GetAuthorizationCode(ctx, "c")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = m.RevokeAuthorizationCode(ctx, &oauth2server.AuthorizationCode{})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = m.GetUser(ctx, "u", "p")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = m.GetUserFromClient(ctx, &oauth2server.Client{})
	assert.ErrorIs(t, err, context.Canceled)
}
