// Package memorymodel is a thread-safe in-memory [oauth2server.Model] that
// implements every storage capability. It is meant for tests, examples and
// single-instance deployments that can lose their tokens on restart.
//
// One mutex guards all maps (the throttle counters of [Model.AddCounter]
// have a lock of their own), so single use of codes and rotation of refresh
// tokens are atomic. Values are copied in and out, so callers cannot change
// stored state by mutating what they hold.
package memorymodel

import (
	"context"
	stderrors "errors"
	"fmt"
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
	_ oauth2server.PasswordModel          = (*Model)(nil)
	_ oauth2server.ClientUserModel        = (*Model)(nil)
	_ oauth2server.RevokedJTIModel        = (*Model)(nil)
)

// ErrDuplicate is returned when adding a client or user whose id or
// username is already taken.
var ErrDuplicate = stderrors.New("memorymodel: duplicate id")

// sweepEvery is the least number of writes between two sweeps of expired
// items.
const sweepEvery = 1024

type userRecord struct {
	user         oauth2server.User
	passwordHash string
}

// Model is an in-memory model. The zero value is not usable; call [New].
type Model struct {
	now func() time.Time

	mu            sync.RWMutex
	clients       map[string]*oauth2server.Client
	users         map[string]*userRecord    // by username
	userClaims    map[string]map[string]any // by user id; an entry per user
	dummyHash     string                    // like the last added user's hash, for unknown users
	clientUsers   map[string]string         // client id -> username
	access        map[string]*oauth2server.Token
	refresh       map[string]*oauth2server.Token
	codes         map[string]*oauth2server.AuthorizationCode
	revokedGrants map[string]time.Time
	consents      map[consentKey]*oauth2server.Consent
	devices       deviceStore
	revokedJTIs   map[string]time.Time // jti -> expiry (jti.go)
	counters      *counter.Store       // throttle counters (counters.go), own lock
	pushed        pushedStore          // pushed authorization requests (par.go), own lock
	writes        int                  // writes since the last sweep
	sweepAfter    int                  // items held after the last sweep
}

// Option configures a Model.
type Option func(*Model)

// WithClock sets the clock used to drop expired items. Default time.Now.
func WithClock(now func() time.Time) Option { return func(m *Model) { m.now = now } }

// New returns an empty Model.
func New(opts ...Option) *Model {
	m := &Model{
		now:           time.Now,
		clients:       make(map[string]*oauth2server.Client),
		users:         make(map[string]*userRecord),
		userClaims:    make(map[string]map[string]any),
		clientUsers:   make(map[string]string),
		access:        make(map[string]*oauth2server.Token),
		refresh:       make(map[string]*oauth2server.Token),
		codes:         make(map[string]*oauth2server.AuthorizationCode),
		revokedGrants: make(map[string]time.Time),
		consents:      make(map[consentKey]*oauth2server.Consent),
		devices:       newDeviceStore(),
		revokedJTIs:   make(map[string]time.Time),
		counters:      counter.New(0),
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
	if len(t.Scope)+len(t.RefreshTokenScope) > len(tokenBox{}.buf) {
		cp := *t
		cp.Scope = slices.Clone(t.Scope)
		cp.RefreshTokenScope = slices.Clone(t.RefreshTokenScope)
		cp.Resources, cp.RefreshTokenResources = slices.Clone(t.Resources), slices.Clone(t.RefreshTokenResources)
		cp.OpenID = t.OpenID.Clone()
		cp.Extra = maps.Clone(t.Extra)
		return &cp
	}
	box := &tokenBox{t: *t}
	buf := box.buf[:]
	box.t.Scope, buf = copyInto(buf, t.Scope)
	box.t.RefreshTokenScope, _ = copyInto(buf, t.RefreshTokenScope)
	box.t.Resources, box.t.RefreshTokenResources = slices.Clone(t.Resources), slices.Clone(t.RefreshTokenResources)
	box.t.OpenID = t.OpenID.Clone()
	box.t.Extra = maps.Clone(t.Extra)
	return &box.t
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
	if _, ok := m.clients[c.ID]; ok {
		return ErrDuplicate
	}
	m.clients[c.ID] = cloneClient(c)
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
	if _, ok := m.users[u.Username]; ok {
		return ErrDuplicate
	}
	m.users[u.Username] = &userRecord{user: *cloneUser(u), passwordHash: passwordHash}
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
	if _, ok := m.clients[clientID]; !ok {
		return fmt.Errorf("memorymodel: set client user: no client %q", clientID)
	}
	m.clientUsers[clientID] = username
	return nil
}

// GetClient implements [oauth2server.Model].
func (m *Model) GetClient(ctx context.Context, clientID string) (*oauth2server.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.clients[clientID]
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
	cp := cloneToken(t)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.revokedGrants[cp.GrantID]; ok && cp.GrantID != "" {
		m.revokeTokenLocked(cp)
	}
	if cp.AccessToken != "" {
		m.access[cp.AccessToken] = cp
	}
	if cp.RefreshToken != "" {
		m.refresh[cp.RefreshToken] = cp
	}
	m.wroteLocked()
	return nil
}

// GetAccessToken implements [oauth2server.AccessTokenModel].
func (m *Model) GetAccessToken(ctx context.Context, accessToken string) (*oauth2server.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ok := m.access[accessToken]
	if !ok {
		return nil, nil
	}
	return cloneToken(t), nil
}

// GetRefreshToken implements [oauth2server.RefreshTokenModel].
func (m *Model) GetRefreshToken(ctx context.Context, refreshToken string) (*oauth2server.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ok := m.refresh[refreshToken]
	if !ok {
		return nil, nil
	}
	return cloneToken(t), nil
}

// RevokeToken implements [oauth2server.RefreshTokenModel]: it marks the
// stored token revoked and reports whether this call did it.
func (m *Model) RevokeToken(ctx context.Context, t *oauth2server.Token) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := m.access[t.AccessToken]
	if stored == nil && t.RefreshToken != "" {
		stored = m.refresh[t.RefreshToken]
	}
	if stored == nil || stored.Revoked {
		return false, nil
	}
	m.revokeTokenLocked(stored)
	return true, nil
}

// RevokeGrant implements [oauth2server.GrantModel]: every token and
// code of the family is revoked, and tokens saved later for it are stored
// revoked.
func (m *Model) RevokeGrant(ctx context.Context, grantID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if grantID == "" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revokedGrants[grantID] = m.now()
	for _, t := range m.access {
		if t.GrantID == grantID {
			m.revokeTokenLocked(t)
		}
	}
	// Records without access token are only in m.refresh; they carry a
	// jti too, which must reach the deny-list.
	for _, t := range m.refresh {
		if t.GrantID == grantID {
			m.revokeTokenLocked(t)
		}
	}
	for _, c := range m.codes {
		if c.GrantID == grantID {
			c.Revoked = true
		}
	}
	return nil
}

// SaveAuthorizationCode implements [oauth2server.AuthorizationCodeModel].
func (m *Model) SaveAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode, _ *oauth2server.Client, _ *oauth2server.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cp := cloneCode(c)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.revokedGrants[cp.GrantID]; ok && cp.GrantID != "" {
		cp.Revoked = true
	}
	m.codes[cp.Code] = cp
	m.wroteLocked()
	return nil
}

// GetAuthorizationCode implements [oauth2server.AuthorizationCodeModel].
func (m *Model) GetAuthorizationCode(ctx context.Context, code string) (*oauth2server.AuthorizationCode, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.codes[code]
	if !ok {
		return nil, nil
	}
	return cloneCode(c), nil
}

// RevokeAuthorizationCode implements [oauth2server.AuthorizationCodeModel]:
// of concurrent calls for one code exactly one reports true.
func (m *Model) RevokeAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored, ok := m.codes[c.Code]
	if !ok || stored.Revoked {
		return false, nil
	}
	stored.Revoked = true
	return true, nil
}

// GetUser implements [oauth2server.PasswordModel]. The password check is
// constant-time; an unknown user costs a check against a dummy hash of the
// same kind and cost as the last added user's ([oauth2server.DummyHashLike]).
func (m *Model) GetUser(ctx context.Context, username, password string) (*oauth2server.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	rec, ok := m.users[username]
	dummy := m.dummyHash
	m.mu.RUnlock()
	if !ok {
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
	m.mu.RLock()
	defer m.mu.RUnlock()
	name, ok := m.clientUsers[c.ID]
	if !ok {
		return nil, nil
	}
	rec, ok := m.users[name]
	if !ok {
		return nil, nil
	}
	return cloneUser(&rec.user), nil
}

// wroteLocked counts a write and sweeps expired items once the writes since
// the last sweep reach the number of items that sweep kept (at least
// sweepEvery), so that a long-running process does not grow without bound.
// A sweep walks every item; spacing sweeps by the store's size keeps their
// cost constant per write however many live tokens there are, and keeps at
// most about twice the live items. Revoked items are kept until they
// expire: they are how reuse is detected.
func (m *Model) wroteLocked() {
	m.writes++
	if m.writes < max(sweepEvery, m.sweepAfter) {
		return
	}
	m.sweepLocked(m.now())
}

// Sweep drops every expired token and code now. It is called
// automatically; tests call it to check that expiry frees memory.
func (m *Model) Sweep() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(m.now())
}

func (m *Model) sweepLocked(now time.Time) {
	// A zero RefreshTokenExpiresAt means the refresh token never expires.
	refreshExpired := func(t *oauth2server.Token) bool {
		return !t.RefreshTokenExpiresAt.IsZero() && now.After(t.RefreshTokenExpiresAt)
	}
	for k, t := range m.access {
		if now.After(t.AccessTokenExpiresAt) && (t.RefreshToken == "" || refreshExpired(t)) {
			delete(m.access, k)
		}
	}
	for k, t := range m.refresh {
		if refreshExpired(t) {
			delete(m.refresh, k)
		}
	}
	for k, c := range m.codes {
		if now.After(c.ExpiresAt) {
			delete(m.codes, k)
		}
	}
	// A family tombstone outlives every refresh token of the family only
	// if kept as long as the longest refresh token lifetime in use; 90
	// days covers any sane configuration.
	for id, at := range m.revokedGrants {
		if now.Sub(at) > 90*24*time.Hour {
			delete(m.revokedGrants, id)
		}
	}
	m.sweepJTIsLocked(now)
	m.writes = 0
	m.sweepAfter = len(m.access) + len(m.refresh) + len(m.codes) + len(m.revokedJTIs)
}
