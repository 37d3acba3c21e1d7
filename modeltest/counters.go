package modeltest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echo-oauth2/oauth2server"
)

// counterAdders is how many goroutines add to one counter at once.
const counterAdders = 50

// counterKey returns a fresh key shaped like the Server's: a purpose, a
// colon and a base64url digest.
func counterKey() string { return random("test:") }

// testCounters checks [oauth2server.CounterModel]: fixed windows that start
// with the first add, refunds, and no lost update under concurrency. The
// times are the now arguments: a model must not use a clock of its own.
func testCounters(t *testing.T, newSetup func(t *testing.T) Setup) {
	probe[oauth2server.CounterModel](t, newSetup, "CounterModel")
	ctx := context.Background()
	setup := func(t *testing.T) oauth2server.CounterModel {
		return need[oauth2server.CounterModel](t, newSetup(t), "CounterModel")
	}
	add := func(t *testing.T, m oauth2server.CounterModel, key string, delta int64, window time.Duration, at time.Time) oauth2server.Counter {
		t.Helper()
		c, err := m.AddCounter(ctx, key, delta, window, at)
		require.NoError(t, err)
		return c
	}
	get := func(t *testing.T, m oauth2server.CounterModel, key string, at time.Time) oauth2server.Counter {
		t.Helper()
		c, err := m.GetCounter(ctx, key, at)
		require.NoError(t, err)
		return c
	}
	// addTogether runs counterAdders adds of 1 to key, released together,
	// and returns what each saw.
	addTogether := func(t *testing.T, m oauth2server.CounterModel, key string, window time.Duration, at time.Time) []oauth2server.Counter {
		t.Helper()
		seen := make([]oauth2server.Counter, counterAdders)
		var start, done sync.WaitGroup
		start.Add(1)
		for i := range seen {
			done.Add(1)
			go func() {
				defer done.Done()
				start.Wait()
				c, err := m.AddCounter(ctx, key, 1, window, at)
				assert.NoError(t, err)
				seen[i] = c
			}()
		}
		start.Done()
		done.Wait()
		return seen
	}
	// assertOneEach checks that the adds saw the counts 1..counterAdders,
	// each once, all in the window ending at end.
	assertOneEach := func(t *testing.T, seen []oauth2server.Counter, end time.Time) {
		t.Helper()
		counts := make([]int64, 0, len(seen))
		for _, c := range seen {
			counts = append(counts, c.Count)
			assertTime(t, end, c.ExpiresAt, "ExpiresAt: one window for every add")
		}
		slices.Sort(counts)
		want := make([]int64, counterAdders)
		for i := range want {
			want[i] = int64(i + 1)
		}
		assert.Equal(t, want, counts, "every count from 1 to %d exactly once: no update lost", counterAdders)
	}

	t.Run("ok, a new counter starts at delta and ends after its window", func(t *testing.T) {
		m := setup(t)
		n, key := now(), counterKey()
		c := add(t, m, key, 2, time.Minute, n)
		assert.EqualValues(t, 2, c.Count)
		assertTime(t, n.Add(time.Minute), c.ExpiresAt, "ExpiresAt")
		got := get(t, m, key, n)
		assert.EqualValues(t, 2, got.Count)
		assertTime(t, n.Add(time.Minute), got.ExpiresAt, "ExpiresAt of GetCounter")
	})

	t.Run("ok, adds within the window accumulate and never move its end", func(t *testing.T) {
		m := setup(t)
		n, key := now(), counterKey()
		end := add(t, m, key, 1, time.Minute, n).ExpiresAt
		assertTime(t, n.Add(time.Minute), end, "ExpiresAt")
		for i, step := range []struct {
			after  time.Duration
			window time.Duration
		}{
			{10 * time.Second, time.Minute},
			{30 * time.Second, time.Hour}, // a longer window does not extend it
			{59 * time.Second, time.Second},
		} {
			c := add(t, m, key, 1, step.window, n.Add(step.after))
			assert.EqualValues(t, i+2, c.Count, "add at +%s", step.after)
			assertTime(t, end, c.ExpiresAt, "ExpiresAt after add at +"+step.after.String())
		}
		got := get(t, m, key, n.Add(30*time.Second))
		assert.EqualValues(t, 4, got.Count)
		assertTime(t, end, got.ExpiresAt, "ExpiresAt of GetCounter")
	})

	t.Run("ok, at and after its end a counter reads as zero and starts again", func(t *testing.T) {
		m := setup(t)
		n, key := now(), counterKey()
		add(t, m, key, 1, time.Minute, n)
		// The returned end, not n+window: a model may store coarser times.
		end := add(t, m, key, 1, time.Minute, n.Add(time.Second)).ExpiresAt
		assert.EqualValues(t, 2, get(t, m, key, end.Add(-time.Millisecond)).Count, "just before the end")
		assert.Zero(t, get(t, m, key, end), "at the end")
		assert.Zero(t, get(t, m, key, end.Add(time.Hour)), "after the end")

		c := add(t, m, key, 1, 2*time.Minute, end)
		assert.EqualValues(t, 1, c.Count, "restarted from zero")
		assertTime(t, end.Add(2*time.Minute), c.ExpiresAt, "ExpiresAt of the new window")
		c = add(t, m, key, 1, time.Minute, end.Add(time.Minute))
		assert.EqualValues(t, 2, c.Count, "within the new window")
		assertTime(t, end.Add(2*time.Minute), c.ExpiresAt, "ExpiresAt of the new window")

		later := c.ExpiresAt.Add(time.Hour)
		c = add(t, m, key, 1, time.Minute, later)
		assert.EqualValues(t, 1, c.Count, "restarted long after the end")
		assertTime(t, later.Add(time.Minute), c.ExpiresAt, "ExpiresAt")
	})

	t.Run("ok, -1 gives back a charge, and may start a counter below zero", func(t *testing.T) {
		m := setup(t)
		n, key := now(), counterKey()
		add(t, m, key, 1, time.Minute, n)
		add(t, m, key, 1, time.Minute, n)
		c := add(t, m, key, -1, time.Minute, n.Add(time.Second))
		assert.EqualValues(t, 1, c.Count)
		assertTime(t, n.Add(time.Minute), c.ExpiresAt, "a refund does not move the end")
		assert.EqualValues(t, 1, get(t, m, key, n.Add(time.Second)).Count)

		// A refund after the window restarted: Count is briefly negative.
		other := counterKey()
		c = add(t, m, other, -1, time.Minute, n)
		assert.EqualValues(t, -1, c.Count)
		assertTime(t, n.Add(time.Minute), c.ExpiresAt, "ExpiresAt")
		assert.EqualValues(t, 0, add(t, m, other, 1, time.Minute, n).Count)
	})

	t.Run("ok, keys are independent", func(t *testing.T) {
		m := setup(t)
		n, a := now(), counterKey()
		// Keys that extend, prefix or resemble one another.
		keys := []string{a, a + "x", a[:len(a)-1], a + ":1", a + "#1", "login-fail:" + a[5:]}
		for i, k := range keys {
			for range i + 1 {
				add(t, m, k, 1, time.Duration(i+1)*time.Minute, n)
			}
		}
		for i, k := range keys {
			got := get(t, m, k, n)
			assert.EqualValues(t, i+1, got.Count, "key %q", k)
			assertTime(t, n.Add(time.Duration(i+1)*time.Minute), got.ExpiresAt, "ExpiresAt of "+k)
		}
		assert.Zero(t, get(t, m, counterKey(), n), "unknown key")
	})

	t.Run("ok, concurrent adds to a new counter each see a different count", func(t *testing.T) {
		// Every throttle's bound holds across instances only if no
		// increment is lost.
		m := setup(t)
		n, key := now(), counterKey()
		seen := addTogether(t, m, key, time.Minute, n)
		end := n.Add(time.Minute)
		assertOneEach(t, seen, end)
		got := get(t, m, key, n)
		assert.EqualValues(t, counterAdders, got.Count, "final count")
		assertTime(t, end, got.ExpiresAt, "ExpiresAt")
	})

	t.Run("ok, concurrent adds to an expired counter restart it once", func(t *testing.T) {
		m := setup(t)
		n, key := now(), counterKey()
		for range 3 {
			add(t, m, key, 1, time.Minute, n)
		}
		later := n.Add(2 * time.Minute)
		seen := addTogether(t, m, key, time.Minute, later)
		end := later.Add(time.Minute)
		assertOneEach(t, seen, end)
		got := get(t, m, key, later)
		assert.EqualValues(t, counterAdders, got.Count, "final count")
		assertTime(t, end, got.ExpiresAt, "ExpiresAt")
	})

	t.Run("nok, cancelled context", func(t *testing.T) {
		m := setup(t)
		n, key := now(), counterKey()
		_, err := m.AddCounter(cancelled(), key, 1, time.Minute, n)
		assert.Error(t, err, "AddCounter")
		assert.Zero(t, get(t, m, key, n), "nothing counted")
		add(t, m, key, 1, time.Minute, n)
		c, err := m.GetCounter(cancelled(), key, n)
		assert.Error(t, err, "GetCounter")
		assert.Zero(t, c)
	})
}
