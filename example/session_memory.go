package main

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// maxClaimsPerSession bounds the spent consent tokens a session remembers
// (each until its form expires): a session that posts more consent forms
// within their lifetime is refused until the oldest expire.
const maxClaimsPerSession = 32

// memorySessions keeps sessions in process memory: right for one
// instance. A list ordered by last use makes every operation O(1) besides
// what expires: expired sessions gather at its back, where each call
// removes them, and a full store evicts the least recently used.
type memorySessions struct {
	max int

	mu    sync.Mutex
	byKey map[string]*list.Element // of *memorySession
	lru   list.List                // front: most recently used
}

type memorySession struct {
	s      session
	claims []memoryClaim
}

type memoryClaim struct {
	name  string
	until time.Time
}

var _ sessionStore = (*memorySessions)(nil)

func newMemorySessions(max int) *memorySessions {
	return &memorySessions{max: max, byKey: make(map[string]*list.Element)}
}

func (m *memorySessions) create(_ context.Context, s *session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expireLocked(s.created)
	if el, ok := m.byKey[s.key]; ok { // 256 random bits: never, but stay consistent
		m.removeLocked(el)
	}
	for m.lru.Len() >= m.max {
		m.removeLocked(m.lru.Back())
	}
	m.byKey[s.key] = m.lru.PushFront(&memorySession{s: *s})
	return nil
}

func (m *memorySessions) get(_ context.Context, key string, now time.Time) (*session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expireLocked(now)
	el, ok := m.byKey[key]
	if !ok {
		return nil, nil
	}
	ms := el.Value.(*memorySession)
	if ms.s.expired(now) { // its maximum lifetime ended while in use
		m.removeLocked(el)
		return nil, nil
	}
	ms.s.seen = now
	m.lru.MoveToFront(el)
	s := ms.s
	return &s, nil
}

func (m *memorySessions) delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.byKey[key]; ok {
		m.removeLocked(el)
	}
	return nil
}

func (m *memorySessions) claim(_ context.Context, key, name string, until, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.byKey[key]
	if !ok {
		return false, nil
	}
	ms := el.Value.(*memorySession)
	live := ms.claims[:0]
	spent := false
	for _, c := range ms.claims {
		if now.Before(c.until) {
			live = append(live, c)
			spent = spent || c.name == name
		}
	}
	ms.claims = live
	if spent {
		return false, nil
	}
	if len(ms.claims) >= maxClaimsPerSession {
		return false, nil
	}
	ms.claims = append(ms.claims, memoryClaim{name: name, until: until})
	return true, nil
}

// len returns the number of sessions held, expired ones included.
func (m *memorySessions) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// expireLocked removes the expired sessions at the back of the list. The
// list is ordered by last use, so every session idle for too long is
// there, and the loop stops at the first live one: the cost is the number
// of sessions that expired. A session whose maximum lifetime ended while
// it was in use is removed by get, or here once it has been idle.
func (m *memorySessions) expireLocked(now time.Time) {
	for el := m.lru.Back(); el != nil && el.Value.(*memorySession).s.expired(now); el = m.lru.Back() {
		m.removeLocked(el)
	}
}

func (m *memorySessions) removeLocked(el *list.Element) {
	delete(m.byKey, el.Value.(*memorySession).s.key)
	m.lru.Remove(el)
}
