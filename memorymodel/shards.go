package memorymodel

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-oauth2/oauth2server"
)

// shardCount is the number of shards the keyed state is spread over: a
// power of two, well above the cores that may save and look up tokens at
// once, so that two requests rarely wait for one lock.
const shardCount = 64

// shard holds the items whose key hashes to it: tokens by each of their
// strings, codes by code, tombstones by grant ID, deny-list entries by jti.
// Each shard sweeps its own expired items.
type shard struct {
	mu            sync.RWMutex
	access        map[string]*tokenRecord
	refresh       map[string]*tokenRecord
	codes         map[string]*oauth2server.AuthorizationCode
	revokedGrants map[string]time.Time // grant ID -> when it was revoked
	revokedJTIs   map[string]time.Time // jti -> expiry (jti.go)
	writes        int                  // writes since the last sweep
	sweepAfter    int                  // items held after the last sweep

	// Keeps the locks of neighbouring shards off one cache line.
	_ [64]byte
}

func (s *shard) init() {
	s.access = make(map[string]*tokenRecord)
	s.refresh = make(map[string]*tokenRecord)
	s.codes = make(map[string]*oauth2server.AuthorizationCode)
	s.revokedGrants = make(map[string]time.Time)
	s.revokedJTIs = make(map[string]time.Time)
}

// shard returns the shard of key.
func (m *Model) shard(key string) *shard {
	return &m.shards[maphash.String(m.seed, key)&(shardCount-1)]
}

// tokenRecord is a stored Token. One record serves both of its strings,
// whose shards differ, so the token in it is immutable once saved and the
// revoked flag is atomic: either shard's lock suffices to read them, and
// of concurrent revocations exactly one swaps the flag.
type tokenRecord struct {
	revoked atomic.Bool
	box     tokenBox // its Revoked field is unused
}

func newTokenRecord(t *oauth2server.Token) *tokenRecord {
	r := &tokenRecord{}
	cloneTokenInto(&r.box, t)
	r.box.t.Revoked = false
	r.revoked.Store(t.Revoked)
	return r
}

func (r *tokenRecord) token() *oauth2server.Token {
	t := cloneToken(&r.box.t)
	t.Revoked = r.revoked.Load()
	return t
}

// refreshExpired reports whether t's refresh token has expired at now. A
// zero RefreshTokenExpiresAt means it never expires.
func refreshExpired(t *oauth2server.Token, now time.Time) bool {
	return !t.RefreshTokenExpiresAt.IsZero() && now.After(t.RefreshTokenExpiresAt)
}

// wroteLocked counts a write and sweeps the shard's expired items once the
// writes since its last sweep reach the number of items that sweep kept (at
// least sweepEvery/shardCount), so that a long-running process does not
// grow without bound. A sweep walks the shard's items; spacing sweeps by
// the shard's size keeps their cost constant per write however many live
// tokens there are, and keeps at most about twice the live items. A sweep
// holds one shard's lock, so it stalls the requests of that shard only.
// Revoked items are kept until they expire: they are how reuse is
// detected.
func (s *shard) wroteLocked(now func() time.Time) {
	s.writes++
	if s.writes < max(sweepEvery/shardCount, s.sweepAfter) {
		return
	}
	s.sweepLocked(now())
}

func (s *shard) sweepLocked(now time.Time) {
	for k, r := range s.access {
		t := &r.box.t
		if now.After(t.AccessTokenExpiresAt) && (t.RefreshToken == "" || refreshExpired(t, now)) {
			delete(s.access, k)
		}
	}
	for k, r := range s.refresh {
		if refreshExpired(&r.box.t, now) {
			delete(s.refresh, k)
		}
	}
	for k, c := range s.codes {
		if now.After(c.ExpiresAt) {
			delete(s.codes, k)
		}
	}
	// A family tombstone outlives every refresh token of the family only
	// if kept as long as the longest refresh token lifetime in use; 90
	// days covers any sane configuration.
	for id, at := range s.revokedGrants {
		if now.Sub(at) > 90*24*time.Hour {
			delete(s.revokedGrants, id)
		}
	}
	for jti, at := range s.revokedJTIs {
		if now.After(at) {
			delete(s.revokedJTIs, jti)
		}
	}
	s.writes = 0
	s.sweepAfter = len(s.access) + len(s.refresh) + len(s.codes) + len(s.revokedJTIs)
}
