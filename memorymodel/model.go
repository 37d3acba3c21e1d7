// Package memorymodel is a thread-safe in-memory [oauth2server.Model] that
// implements every storage capability. It is meant for tests, examples and
// single-instance deployments that can lose their tokens on restart.
//
// Tokens, codes, revoked grant families and the JWT deny-list are spread
// over 64 shards by a hash of their key, each shard with its own lock, so
// that requests saving and looking up different tokens do not wait for one
// another. Every single-use decision is one atomic swap of a stored
// token's or code's revoked flag, so it stays atomic; a grant family is
// indexed under its grant ID, so revoking it walks the family, not the
// store.
//
// Clients and users are read without a lock. Consents, device requests and
// user claims share one more lock, which also orders the writes of clients
// and users; the throttle counters of [Model.AddCounter] have their own,
// and so do the client secrets, trusted issuers and exchange policies of
// client assertions and token exchange.
// Values are copied in and out, so callers cannot change stored state by
// mutating what they hold.
package memorymodel

import (
	"context"
	stderrors "errors"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/internal/counter"
)

// Compile-time checks that Model implements every storage capability.
var (
	_ oauth2server.Model                  = (*Model)(nil)
	_ oauth2server.AccessTokenModel       = (*Model)(nil)
	_ oauth2server.RefreshTokenModel      = (*Model)(nil)
	_ oauth2server.GrantModel             = (*Model)(nil)
	_ oauth2server.AuthorizationCodeModel = (*Model)(nil)
	_ oauth2server.CodeRedemptionModel    = (*Model)(nil)
	_ oauth2server.PasswordModel          = (*Model)(nil)
	_ oauth2server.ClientUserModel        = (*Model)(nil)
	_ oauth2server.RevokedJTIModel        = (*Model)(nil)
)

// ErrDuplicate is returned when adding a client or user whose id or
// username is already taken.
var ErrDuplicate = stderrors.New("memorymodel: duplicate id")

// sweepEvery is the least number of writes between two sweeps of all
// expired items: each shard sweeps after sweepEvery/shardCount of its own.
const sweepEvery = 1024

type userRecord struct {
	user         oauth2server.User
	passwordHash string
}

// Model is an in-memory model. The zero value is not usable; call [New].
type Model struct {
	now func() time.Time

	// Tokens, codes, grant families, tombstones and the deny-list
	// (shards.go).
	seed   maphash.Seed
	shards [shardCount]shard

	// Read on every token request, without a lock; written under mu.
	clients     readMap[*oauth2server.Client]
	users       readMap[*userRecord] // by username
	clientUsers readMap[string]      // client id -> username

	// mu guards the rest.
	mu         sync.RWMutex
	userClaims map[string]map[string]any // by user id; an entry per user
	dummyHash  string                    // like the last added user's hash, for unknown users
	consents   consentStore              // by user and client, and by id (consent.go)
	devices    deviceStore
	counters   *counter.Store // throttle counters (counters.go), own lock
	assertions assertionStore // assertions.go and exchange.go, own lock
	pushed     pushedStore    // pushed authorization requests (par.go), own lock
}

// readMap is a map that readers use without a lock: a sync.Map, whose
// lookups write nothing that other cores read, so the client lookup of
// every request does not bounce a lock's cache line between cores as an
// RWMutex's read lock does. Its writers hold Model.mu, so that what they
// check and what they write stay one step. Values are never changed once
// stored.
type readMap[V any] struct{ m sync.Map }

func (r *readMap[V]) load(key string) (V, bool) {
	v, ok := r.m.Load(key)
	if !ok {
		var zero V
		return zero, false
	}
	return v.(V), true
}

func (r *readMap[V]) store(key string, v V) { r.m.Store(key, v) }

// Option configures a Model.
type Option func(*Model)

// WithClock sets the clock used to drop expired items. Default time.Now.
func WithClock(now func() time.Time) Option { return func(m *Model) { m.now = now } }

// New returns an empty Model.
func New(opts ...Option) *Model {
	m := &Model{
		now:        time.Now,
		seed:       maphash.MakeSeed(),
		userClaims: make(map[string]map[string]any),
		consents:   newConsentStore(),
		devices:    newDeviceStore(),
		counters:   counter.New(0),
	}
	for i := range m.shards {
		m.shards[i].init()
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// The clone functions copy slices and maps too: a shallow copy would share
// them, and a caller appending to a returned Scope or writing to Extra would
// change stored state.
//
// Clients and tokens are copied on every token request and every bearer
// check, so their usual handful of strings is copied into an array that is
// allocated together with the struct: one allocation instead of one per
// slice. Each slice is capped at its own length, so appending to one
// reallocates it instead of writing into its neighbour.

// clientBox is a Client with room for its slices.
type clientBox struct {
	c   oauth2server.Client
	buf [8]string
}

func cloneClient(c *oauth2server.Client) *oauth2server.Client {
	n := len(c.RedirectURIs) + len(c.Grants) + len(c.Scopes)
	if n > len(clientBox{}.buf) {
		cp := *c
		cp.RedirectURIs = slices.Clone(c.RedirectURIs)
		cp.Grants = slices.Clone(c.Grants)
		cp.Scopes = slices.Clone(c.Scopes)
		cp.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
		cp.Extra = maps.Clone(c.Extra)
		return &cp
	}
	box := &clientBox{c: *c}
	buf := box.buf[:]
	box.c.RedirectURIs, buf = copyInto(buf, c.RedirectURIs)
	box.c.Grants, buf = copyInto(buf, c.Grants)
	box.c.Scopes, _ = copyInto(buf, c.Scopes)
	box.c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
	box.c.Extra = maps.Clone(c.Extra)
	return &box.c
}

// tokenBox is a Token with room for its scopes.
type tokenBox struct {
	t   oauth2server.Token
	buf [3]string
}

func cloneToken(t *oauth2server.Token) *oauth2server.Token {
	box := new(tokenBox)
	cloneTokenInto(box, t)
	return &box.t
}

// cloneTokenInto copies t into box, its scopes into box.buf when they fit.
func cloneTokenInto(box *tokenBox, t *oauth2server.Token) {
	box.t = *t
	if len(t.Scope)+len(t.RefreshTokenScope) > len(box.buf) {
		box.t.Scope = slices.Clone(t.Scope)
		box.t.RefreshTokenScope = slices.Clone(t.RefreshTokenScope)
	} else {
		buf := box.buf[:]
		box.t.Scope, buf = copyInto(buf, t.Scope)
		box.t.RefreshTokenScope, _ = copyInto(buf, t.RefreshTokenScope)
	}
	box.t.Resources, box.t.RefreshTokenResources = slices.Clone(t.Resources), slices.Clone(t.RefreshTokenResources)
	box.t.OpenID = t.OpenID.Clone()
	box.t.Actor = t.Actor.Clone()
	box.t.Extra = maps.Clone(t.Extra)
}

// copyInto copies src to the front of buf and returns the copy, capped at
// its length, and the rest of buf. A nil src stays nil (for
// RefreshTokenScope nil means "same as Scope"), an empty one stays empty.
func copyInto(buf, src []string) (dst, rest []string) {
	if src == nil {
		return nil, buf
	}
	n := copy(buf, src)
	return buf[:n:n], buf[n:]
}

func cloneCode(c *oauth2server.AuthorizationCode) *oauth2server.AuthorizationCode {
	cp := *c
	cp.Scope = slices.Clone(c.Scope)
	cp.Resources = slices.Clone(c.Resources)
	cp.OpenID = c.OpenID.Clone()
	cp.Extra = maps.Clone(c.Extra)
	return &cp
}

func cloneUser(u *oauth2server.User) *oauth2server.User {
	cp := *u
	cp.Extra = maps.Clone(u.Extra)
	return &cp
}

// AddClient registers a client. Its SecretHash must already be hashed
// ([oauth2server.HashSecret]); an id in use is [ErrDuplicate]. It has the
// signature of mongomodel's, so that one [modeltest.Setup] serves both.
func (m *Model) AddClient(ctx context.Context, c *oauth2server.Client) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c == nil || c.ID == "" {
		return stderrors.New("memorymodel: client id is empty")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clients.load(c.ID); ok {
		return ErrDuplicate
	}
	m.clients.store(c.ID, cloneClient(c))
	return nil
}

// AddUser registers a user with a password hash made by
// [oauth2server.HashPassword] (bcrypt) or [oauth2server.HashSecret]. A
// username in use is [ErrDuplicate].
func (m *Model) AddUser(ctx context.Context, u *oauth2server.User, passwordHash string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if u == nil || u.Username == "" || u.ID == "" {
		return stderrors.New("memorymodel: user id and username are required")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users.load(u.Username); ok {
		return ErrDuplicate
	}
	m.users.store(u.Username, &userRecord{user: *cloneUser(u), passwordHash: passwordHash})
	if _, ok := m.userClaims[u.ID]; !ok {
		m.userClaims[u.ID] = map[string]any{}
	}
	// An unknown username must cost what a known one does, so the dummy
	// follows the kind and cost of the stored hashes.
	m.dummyHash = oauth2server.DummyHashLike(passwordHash)
	return nil
}

// SetClientUser makes the user with the given username the user on whose
// behalf the client acts in the client_credentials grant
// ([oauth2server.ClientUserModel]). An unknown client is an error.
func (m *Model) SetClientUser(ctx context.Context, clientID, username string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clients.load(clientID); !ok {
		return fmt.Errorf("memorymodel: set client user: no client %q", clientID)
	}
	m.clientUsers.store(clientID, username)
	return nil
}

// GetClient implements [oauth2server.Model].
func (m *Model) GetClient(ctx context.Context, clientID string) (*oauth2server.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, ok := m.clients.load(clientID)
	if !ok {
		return nil, nil
	}
	return cloneClient(c), nil
}

// SaveToken implements [oauth2server.Model]. A token of a revoked grant is
// stored as revoked.
func (m *Model) SaveToken(ctx context.Context, t *oauth2server.Token, _ *oauth2server.Client, _ *oauth2server.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.saveRecord(newTokenRecord(t))
	return nil
}

// saveRecord stores r in its family and under its strings. A token of a
// revoked family is stored revoked.
func (m *Model) saveRecord(r *tokenRecord) {
	if g := r.box.t.GrantID; g != "" {
		// Joining the family and reading its tombstone is one step under
		// the grant's lock, as writing the tombstone and reading the
		// family is in RevokeGrant: one of the two sees the other.
		s, h := m.hashShard(g)
		s.mu.Lock()
		_, dead := s.revokedGrants[g]
		r.next = s.tokenFamilies[h]
		s.tokenFamilies[h] = r
		s.wroteLocked(m.now)
		s.mu.Unlock()
		if dead {
			m.revokeRecord(r)
		}
	}
	if a := r.box.t.AccessToken; a != "" {
		s := m.shard(a)
		s.mu.Lock()
		s.access[a] = r
		s.wroteLocked(m.now)
		s.mu.Unlock()
	}
	if rt := r.box.t.RefreshToken; rt != "" {
		s := m.shard(rt)
		s.mu.Lock()
		s.refresh[rt] = r
		s.wroteLocked(m.now)
		s.mu.Unlock()
	}
}

// lookup returns the record stored under key in the access or refresh
// map of key's shard.
func (m *Model) lookup(key string, refresh bool) *tokenRecord {
	s := m.shard(key)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if refresh {
		return s.refresh[key]
	}
	return s.access[key]
}

// GetAccessToken implements [oauth2server.AccessTokenModel].
func (m *Model) GetAccessToken(ctx context.Context, accessToken string) (*oauth2server.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := m.lookup(accessToken, false)
	if r == nil {
		return nil, nil
	}
	return r.token(), nil
}

// GetRefreshToken implements [oauth2server.RefreshTokenModel].
func (m *Model) GetRefreshToken(ctx context.Context, refreshToken string) (*oauth2server.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := m.lookup(refreshToken, true)
	if r == nil {
		return nil, nil
	}
	return r.token(), nil
}

// RevokeToken implements [oauth2server.RefreshTokenModel]: it marks the
// stored token revoked and reports whether this call did it. Of concurrent
// calls for one token, by either of its strings, exactly one reports true.
func (m *Model) RevokeToken(ctx context.Context, t *oauth2server.Token) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	r := m.lookup(t.AccessToken, false)
	if r == nil && t.RefreshToken != "" {
		r = m.lookup(t.RefreshToken, true)
	}
	if r == nil || r.revoked.Load() {
		return false, nil
	}
	// The deny-list entry first, so that whoever sees the record revoked
	// also finds its jti refused.
	m.denyRecord(r)
	return r.revoked.CompareAndSwap(false, true), nil
}

// revokeRecord deny-lists the record's ID and marks it revoked.
func (m *Model) revokeRecord(r *tokenRecord) {
	m.denyRecord(r)
	r.revoked.Store(true)
}

// RevokeGrant implements [oauth2server.GrantModel]: every token and
// code of the family is revoked, and tokens saved later for it are stored
// revoked. It costs one lock of the grant's shard and a walk of the
// family, not of the store.
func (m *Model) RevokeGrant(ctx context.Context, grantID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if grantID == "" {
		return nil
	}
	var family []*tokenRecord
	s, h := m.hashShard(grantID)
	s.mu.Lock()
	s.revokedGrants[grantID] = m.now()
	for r := s.tokenFamilies[h]; r != nil; r = r.next {
		if r.box.t.GrantID == grantID {
			family = append(family, r)
		}
	}
	for c := s.codeFamilies[h]; c != nil; c = c.next {
		if c.c.GrantID == grantID {
			c.revoked.Store(true)
		}
	}
	s.wroteLocked(m.now)
	s.mu.Unlock()
	// Outside the lock: the deny-list entries have shards of their own.
	for _, r := range family {
		m.revokeRecord(r)
	}
	return nil
}

// SaveAuthorizationCode implements [oauth2server.AuthorizationCodeModel].
// A code of a revoked grant is stored as revoked.
func (m *Model) SaveAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode, _ *oauth2server.Client, _ *oauth2server.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := newCodeRecord(c)
	if g := r.c.GrantID; g != "" {
		s, h := m.hashShard(g)
		s.mu.Lock()
		if _, dead := s.revokedGrants[g]; dead {
			r.revoked.Store(true)
		}
		r.next = s.codeFamilies[h]
		s.codeFamilies[h] = r
		s.wroteLocked(m.now)
		s.mu.Unlock()
	}
	s := m.shard(r.c.Code)
	s.mu.Lock()
	s.codes[r.c.Code] = r
	s.wroteLocked(m.now)
	s.mu.Unlock()
	return nil
}

// codeRecord returns the record of code.
func (m *Model) codeRecord(code string) *codeRecord {
	s := m.shard(code)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.codes[code]
}

// GetAuthorizationCode implements [oauth2server.AuthorizationCodeModel].
func (m *Model) GetAuthorizationCode(ctx context.Context, code string) (*oauth2server.AuthorizationCode, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := m.codeRecord(code)
	if r == nil {
		return nil, nil
	}
	return r.code(), nil
}

// RevokeAuthorizationCode implements [oauth2server.AuthorizationCodeModel]:
// of concurrent calls for one code exactly one reports true.
func (m *Model) RevokeAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	r := m.codeRecord(c.Code)
	return r != nil && r.revoked.CompareAndSwap(false, true), nil
}

// RedeemAuthorizationCode implements [oauth2server.CodeRedemptionModel]:
// it swaps the code's revoked flag as RevokeAuthorizationCode does, and
// only the call that swapped it saves its token. A family revoked before
// the call buys nothing; one revoked since the swap gets the token saved
// revoked. Nothing after the swap can fail, so the code is never spent
// without the token saved.
//
// A type that embeds Model and overrides SaveToken or
// RevokeAuthorizationCode (a test double injecting faults, an auditing
// wrapper) must override this method too, or hide it: the Server calls it
// on every code exchange instead of those two, and would find this one
// through the embedding.
func (m *Model) RedeemAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode, t *oauth2server.Token, _ *oauth2server.Client, _ *oauth2server.User) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	r := m.codeRecord(c.Code)
	if r == nil || m.grantRevoked(c.GrantID) || !r.revoked.CompareAndSwap(false, true) {
		return false, nil
	}
	// The swap won: the token is saved, revoked if the family was revoked
	// since. Of concurrent redemptions the losers revoke the family (a
	// replay, R-49) only after the swap, and the winner must not then
	// report a replay too: it answers with the token, dead as it is, as
	// RevokeAuthorizationCode and SaveToken would.
	m.saveRecord(newTokenRecord(t))
	return true, nil
}

// grantRevoked reports whether the grant family has a tombstone.
func (m *Model) grantRevoked(grantID string) bool {
	if grantID == "" {
		return false
	}
	s, _ := m.hashShard(grantID)
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, dead := s.revokedGrants[grantID]
	return dead
}

// GetUser implements [oauth2server.PasswordModel]. The password check is
// constant-time; an unknown user costs a check against a dummy hash of the
// same kind and cost as the last added user's ([oauth2server.DummyHashLike]).
func (m *Model) GetUser(ctx context.Context, username, password string) (*oauth2server.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rec, ok := m.users.load(username)
	if !ok {
		m.mu.RLock()
		dummy := m.dummyHash
		m.mu.RUnlock()
		if dummy == "" {
			dummy = defaultDummyHash
		}
		oauth2server.VerifySecret(dummy, password)
		return nil, nil
	}
	if !oauth2server.VerifySecret(rec.passwordHash, password) {
		return nil, nil
	}
	return cloneUser(&rec.user), nil
}

var defaultDummyHash = oauth2server.HashSecret("memorymodel: no such user")

// GetUserFromClient implements [oauth2server.ClientUserModel].
func (m *Model) GetUserFromClient(ctx context.Context, c *oauth2server.Client) (*oauth2server.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name, ok := m.clientUsers.load(c.ID)
	if !ok {
		return nil, nil
	}
	rec, ok := m.users.load(name)
	if !ok {
		return nil, nil
	}
	return cloneUser(&rec.user), nil
}

// Sweep drops every expired token, code and consent now. It is called
// automatically, one shard (or, for consents, every few hundred saves) at
// a time; tests call it to check that expiry frees memory. Revoked
// consents need no sweep: revocation deletes them.
func (m *Model) Sweep() {
	now := m.now()
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		s.sweepLocked(now)
		s.mu.Unlock()
	}
	m.mu.Lock()
	m.consents.sweep(now)
	m.mu.Unlock()
}
