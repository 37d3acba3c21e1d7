package mongomodel

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/echo-oauth2/oauth2server"
)

func TestClientUsersAreKeptPerClientValue(t *testing.T) {
	t.Parallel()
	var cu clientUsers
	alice := &oauth2server.User{ID: "u1", Username: "alice"}
	c, equal := &oauth2server.Client{ID: "svc"}, &oauth2server.Client{ID: "svc"}
	cu.remember(c, alice)
	_, ok := cu.take(equal)
	assert.False(t, ok, "an equal Client is another value")
	u, ok := cu.take(c)
	assert.True(t, ok)
	assert.Same(t, alice, u)
	_, ok = cu.take(c)
	assert.False(t, ok, "taken once")

	none := &oauth2server.Client{ID: "svc"}
	cu.remember(none, nil)
	u, ok = cu.take(none)
	assert.True(t, ok, "a client that acts for no one is remembered too")
	assert.Nil(t, u)
}

func TestClientUsersForgetCollectedClients(t *testing.T) {
	t.Parallel()
	var cu clientUsers
	for range 100 {
		cu.remember(&oauth2server.Client{ID: "svc"}, nil)
	}
	size := func() int {
		cu.mu.Lock()
		defer cu.mu.Unlock()
		return len(cu.m)
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() > 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	assert.Zero(t, size(), "entries of collected Clients are dropped")
}

func TestClientCacheIsBounded(t *testing.T) {
	t.Parallel()
	var cc clientCache
	now := time.Now()
	for i := range clientCacheMax {
		cc.put(string(rune(i)), nil, now, now.Add(time.Duration(i%2+1)*time.Minute))
	}
	cc.put("new", nil, now, now.Add(time.Minute))
	assert.Len(t, cc.m, clientCacheMax, "full: one entry made room")
	later := now.Add(time.Minute)
	cc.put("later", nil, later, later.Add(time.Minute))
	assert.LessOrEqual(t, len(cc.m), clientCacheMax/2+2, "expired entries made room")
	_, ok := cc.get("later", later)
	assert.True(t, ok)
	_, ok = cc.get("later", later.Add(time.Minute))
	assert.False(t, ok, "expired")
	cc.drop("later")
	_, ok = cc.get("later", later)
	assert.False(t, ok, "dropped")
}
