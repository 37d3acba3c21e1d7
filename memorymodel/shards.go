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
// strings, codes by code, grant families and their tombstones by grant ID,
// deny-list entries by jti. Each shard sweeps its own expired items.
type shard struct {
	mu            sync.RWMutex
	access        map[string]*tokenRecord
	refresh       map[string]*tokenRecord
	codes         map[string]*codeRecord
	tokenFamilies map[uint64]*tokenRecord // grant ID's hash -> its tokens, linked by next
	codeFamilies  map[uint64]*codeRecord  // grant ID's hash -> its codes, linked by next
	revokedGrants map[string]time.Time    // grant ID -> when it was revoked
	revokedJTIs   map[string]time.Time    // jti -> expiry (jti.go)
	writes        int                     // writes since the last sweep
	sweepAfter    int                     // items held after the last sweep

	// Keeps the locks of neighbouring shards off one cache line.
	_ [64]byte
}

func (s *shard) init() {
	s.access = make(map[string]*tokenRecord)
	s.refresh = make(map[string]*tokenRecord)
	s.codes = make(map[string]*codeRecord)
	s.tokenFamilies = make(map[uint64]*tokenRecord)
	s.codeFamilies = make(map[uint64]*codeRecord)
	s.revokedGrants = make(map[string]time.Time)
	s.revokedJTIs = make(map[string]time.Time)
}

// shard returns the shard of key.
func (m *Model) shard(key string) *shard {
	s, _ := m.hashShard(key)
	return s
}

// hashShard returns the shard of key and key's hash. The grant families
// are keyed by the hash of the grant ID, not by the ID: a key without
// pointers is a map entry the garbage collector does not scan, on a map
// with an entry per stored token. Two grant IDs with one 64-bit hash share
// a list, which RevokeGrant filters by grant ID.
func (m *Model) hashShard(key string) (*shard, uint64) {
	h := maphash.String(m.seed, key)
	return &m.shards[h&(shardCount-1)], h
}

// tokenRecord is a stored Token. One record serves both of its strings
// and its grant family, whose shards differ, so the token in it is
// immutable once saved and the revoked flag is atomic: any of those
// shards' locks suffices to read them, and of concurrent revocations
// exactly one swaps the flag.
type tokenRecord struct {
	revoked atomic.Bool
	box     tokenBox     // its Revoked field is unused
	next    *tokenRecord // the next token of the family, under the grant's shard lock
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

// gone reports whether the sweeps drop the record from both token maps.
func (r *tokenRecord) gone(now time.Time) bool {
	t := &r.box.t
	return (t.AccessToken == "" || now.After(t.AccessTokenExpiresAt)) &&
		(t.RefreshToken == "" || refreshExpired(t, now))
}

// refreshExpired reports whether t's refresh token has expired at now. A
// zero RefreshTokenExpiresAt means it never expires.
func refreshExpired(t *oauth2server.Token, now time.Time) bool {
	return !t.RefreshTokenExpiresAt.IsZero() && now.After(t.RefreshTokenExpiresAt)
}

// codeRecord is a stored AuthorizationCode, like a tokenRecord: it is in
// the shards of its code and of its grant.
type codeRecord struct {
	revoked atomic.Bool
	c       oauth2server.AuthorizationCode // its Revoked field is unused
	next    *codeRecord                    // the next code of the family, under the grant's shard lock
}

func newCodeRecord(c *oauth2server.AuthorizationCode) *codeRecord {
	r := &codeRecord{c: *cloneCode(c)}
	r.c.Revoked = false
	r.revoked.Store(c.Revoked)
	return r
}

func (r *codeRecord) code() *oauth2server.AuthorizationCode {
	c := cloneCode(&r.c)
	c.Revoked = r.revoked.Load()
	return c
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
	for k, r := range s.codes {
		if now.After(r.c.ExpiresAt) {
			delete(s.codes, k)
		}
	}
	// A family forgets a member once the sweeps drop it from the token
	// and code maps too: an expired token or code is refused anyway.
	members := 0
	for g, head := range s.tokenFamilies {
		p := &head
		for *p != nil {
			if (*p).gone(now) {
				*p = (*p).next
			} else {
				p = &(*p).next
				members++
			}
		}
		if head == nil {
			delete(s.tokenFamilies, g)
		} else {
			s.tokenFamilies[g] = head
		}
	}
	for g, head := range s.codeFamilies {
		p := &head
		for *p != nil {
			if now.After((*p).c.ExpiresAt) {
				*p = (*p).next
			} else {
				p = &(*p).next
				members++
			}
		}
		if head == nil {
			delete(s.codeFamilies, g)
		} else {
			s.codeFamilies[g] = head
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
	s.sweepAfter = len(s.access) + len(s.refresh) + len(s.codes) + members + len(s.revokedJTIs)
}
