// Package counter is a bounded in-memory store of fixed-window counters,
// the fallback of the Server's throttles when the model keeps no shared
// counters, and the store of memorymodel.
package counter

import (
	"container/heap"
	"sync"
	"time"
)

// DefaultMaxKeys bounds the memory of a Store: about 100 bytes a key.
const DefaultMaxKeys = 1 << 17

// Store holds counters that restart after a window. Expired counters are
// removed in order of expiry, a few on every increment, so that the cost of
// expiry is proportional to what expires and never a scan of the whole
// store. When full, the counter closest to expiry is dropped to make room:
// memory stays bounded whatever the number of keys a flood brings.
type Store struct {
	mu      sync.Mutex
	maxKeys int
	byKey   map[string]*entry
	byExp   expiryHeap
}

type entry struct {
	key     string
	count   int64
	expires time.Time
	index   int // in byExp
}

// New returns a Store of at most maxKeys counters (DefaultMaxKeys if <= 0).
func New(maxKeys int) *Store {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &Store{maxKeys: maxKeys, byKey: make(map[string]*entry)}
}

// Add adds delta to key's counter, restarting it from zero with expiry
// now+window when it is absent or expired, and returns the new count and
// expiry.
func (s *Store) Add(key string, delta int64, window time.Duration, now time.Time) (int64, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(now, 4)
	e := s.byKey[key]
	if e != nil && !now.Before(e.expires) {
		s.removeLocked(e)
		e = nil
	}
	if e == nil {
		for len(s.byKey) >= s.maxKeys {
			s.removeLocked(s.byExp[0])
		}
		e = &entry{key: key, expires: now.Add(window)}
		s.byKey[key] = e
		heap.Push(&s.byExp, e)
	}
	e.count += delta
	return e.count, e.expires
}

// Get returns key's count and expiry, or zeros when it is absent or
// expired at now.
func (s *Store) Get(key string, now time.Time) (int64, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.byKey[key]
	if e == nil || !now.Before(e.expires) {
		return 0, time.Time{}
	}
	return e.count, e.expires
}

// Len returns the number of stored counters, expired ones not yet removed
// included.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey)
}

// expireLocked removes up to n expired counters, earliest first: n > 1
// lets removal outpace creation, so expired entries never pile up.
func (s *Store) expireLocked(now time.Time, n int) {
	for ; n > 0 && len(s.byExp) > 0 && !now.Before(s.byExp[0].expires); n-- {
		s.removeLocked(s.byExp[0])
	}
}

func (s *Store) removeLocked(e *entry) {
	heap.Remove(&s.byExp, e.index)
	delete(s.byKey, e.key)
}

// expiryHeap orders entries by expiry (container/heap).
type expiryHeap []*entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
