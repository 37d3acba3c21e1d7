package main

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// memorySessions keeps sessions in process memory: right for one
// instance. A list ordered by last use makes every operation O(1) besides
// what expires: expired sessions gather at its back, where each call
// removes them, and a full store evicts the least recently used.
type memorySessions struct {
	max int

	mu    sync.Mutex
	byKey map[string]*list.Element // of *session
	lru   list.List                // front: most recently used
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
	stored := *s
	m.byKey[s.key] = m.lru.PushFront(&stored)
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
	stored := el.Value.(*session)
	if stored.expired(now) { // its maximum lifetime ended while in use
		m.removeLocked(el)
		return nil, nil
	}
	stored.seen = now
	m.lru.MoveToFront(el)
	s := *stored
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
	for el := m.lru.Back(); el != nil && el.Value.(*session).expired(now); el = m.lru.Back() {
		m.removeLocked(el)
	}
}

func (m *memorySessions) removeLocked(el *list.Element) {
	delete(m.byKey, el.Value.(*session).key)
	m.lru.Remove(el)
}
