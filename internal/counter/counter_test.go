package counter

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestAddAndGet(t *testing.T) {
	s := New(0)
	assert.Equal(t, DefaultMaxKeys, s.maxKeys)
	n, exp := s.Add("k", 1, time.Minute, t0)
	assert.EqualValues(t, 1, n)
	assert.Equal(t, t0.Add(time.Minute), exp)
	n, exp = s.Add("k", 1, time.Hour, t0.Add(30*time.Second))
	assert.EqualValues(t, 2, n)
	assert.Equal(t, t0.Add(time.Minute), exp, "an add never moves the expiry")
	n, _ = s.Add("k", -1, time.Minute, t0.Add(40*time.Second))
	assert.EqualValues(t, 1, n)
	n, exp = s.Get("k", t0.Add(59*time.Second))
	assert.EqualValues(t, 1, n)
	assert.Equal(t, t0.Add(time.Minute), exp)

	n, exp = s.Get("k", t0.Add(time.Minute))
	assert.Zero(t, n, "expired at ExpiresAt")
	assert.True(t, exp.IsZero())
	n, exp = s.Add("k", 1, time.Minute, t0.Add(time.Minute))
	assert.EqualValues(t, 1, n, "restarts")
	assert.Equal(t, t0.Add(2*time.Minute), exp)
	n, _ = s.Get("absent", t0)
	assert.Zero(t, n)
	n, _ = s.Add("refund", -1, time.Minute, t0)
	assert.EqualValues(t, -1, n, "a refund on a restarted counter")
}

// Expiry removes expired counters a few at a time, earliest first, and
// never one that is still live.
func TestExpiryIsIncremental(t *testing.T) {
	s := New(0)
	for i := range 100 {
		s.Add(fmt.Sprint("short", i), 1, time.Second, t0)
	}
	s.Add("long", 1, time.Hour, t0)
	require.Equal(t, 101, s.Len())
	later := t0.Add(2 * time.Second)
	s.Add("new", 1, time.Hour, later)
	assert.Equal(t, 101-4+1, s.Len(), "four expired removed per add")
	for range 30 {
		s.Add("new", 1, time.Hour, later)
	}
	assert.Equal(t, 2, s.Len(), "only the live ones remain")
	n, _ := s.Get("long", later)
	assert.EqualValues(t, 1, n)
}

// A full store drops the counter closest to expiry.
func TestCapEvictsClosestToExpiry(t *testing.T) {
	s := New(3)
	s.Add("a", 1, 3*time.Minute, t0)
	s.Add("b", 1, time.Minute, t0)
	s.Add("c", 1, 2*time.Minute, t0)
	s.Add("d", 1, time.Hour, t0)
	assert.Equal(t, 3, s.Len())
	n, _ := s.Get("b", t0)
	assert.Zero(t, n, "b expired first, so it went")
	for _, k := range []string{"a", "c", "d"} {
		n, _ := s.Get(k, t0)
		assert.EqualValues(t, 1, n, k)
	}
}
