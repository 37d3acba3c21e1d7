// Package mapmodel is a small, complete oauth2server model: maps behind one
// mutex, with what the client_credentials, authorization_code and
// refresh_token grants need. It is the model docs/model.md shows, byte for
// byte, and it passes modeltest.Run.
package mapmodel

import (
	"context"
	stderrors "errors"
	"maps"
	"slices"
	"sync"

	"github.com/echo-oauth2/oauth2server"
)

// The capabilities Model implements, checked by the compiler.
var (
	_ oauth2server.Model                  = (*Model)(nil)
	_ oauth2server.AccessTokenModel       = (*Model)(nil)
	_ oauth2server.RefreshTokenModel      = (*Model)(nil)
	_ oauth2server.GrantModel             = (*Model)(nil)
	_ oauth2server.AuthorizationCodeModel = (*Model)(nil)
)

// Model keeps everything in maps guarded by one mutex. Token strings and
// codes are indexed by their digest and not kept, as a database would do.
// It never deletes anything; a real store drops an item once it has
// expired (a redeemed code or a rotated refresh token not before).
type Model struct {
	mu            sync.Mutex
	clients       map[string]*oauth2server.Client            // by ID
	access        map[string]*oauth2server.Token             // by digest of the access token
	refresh       map[string]*oauth2server.Token             // by digest of the refresh token
	codes         map[string]*oauth2server.AuthorizationCode // by digest of the code
	revokedGrants map[string]bool                            // families revoked by RevokeGrant
}

// New returns an empty Model.
func New() *Model {
	return &Model{
		clients:       map[string]*oauth2server.Client{},
		access:        map[string]*oauth2server.Token{},
		refresh:       map[string]*oauth2server.Token{},
		codes:         map[string]*oauth2server.AuthorizationCode{},
		revokedGrants: map[string]bool{},
	}
}

// AddClient stores a copy of c. Its SecretHash comes from
// oauth2server.HashSecret; the Model never sees a secret.
func (m *Model) AddClient(ctx context.Context, c *oauth2server.Client) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.ID == "" {
		return stderrors.New("mapmodel: client without ID")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clients[c.ID] = cloneClient(c)
	return nil
}

// GetClient implements oauth2server.Model.
func (m *Model) GetClient(ctx context.Context, clientID string) (*oauth2server.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // a cancelled request is an error, never "not found"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.clients[clientID]
	if !ok {
		return nil, nil // not found
	}
	return cloneClient(c), nil // the caller may change its copy
}

// SaveToken implements oauth2server.Model. One record serves both of its
// token strings, so that revoking it by either revokes both.
func (m *Model) SaveToken(ctx context.Context, t *oauth2server.Token, _ *oauth2server.Client, _ *oauth2server.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := cloneToken(t)
	rec.AccessToken, rec.RefreshToken = "", ""
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.revokedGrants[rec.GrantID] {
		rec.Revoked = true // a refresh that raced RevokeGrant must not outlive it
	}
	if t.AccessToken != "" {
		m.access[oauth2server.TokenDigest(t.AccessToken)] = rec
	}
	if t.RefreshToken != "" {
		m.refresh[oauth2server.TokenDigest(t.RefreshToken)] = rec
	}
	return nil
}

// GetAccessToken implements oauth2server.AccessTokenModel. Revoked and
// expired tokens are returned as stored: the Server checks them.
func (m *Model) GetAccessToken(ctx context.Context, accessToken string) (*oauth2server.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.access[oauth2server.TokenDigest(accessToken)]
	if !ok {
		return nil, nil
	}
	t := cloneToken(rec)
	t.AccessToken = accessToken // the string looked up; the other stays empty
	return t, nil
}

// GetRefreshToken implements oauth2server.RefreshTokenModel. Rotated
// (revoked) tokens are returned with Revoked set, so reuse is detected.
func (m *Model) GetRefreshToken(ctx context.Context, refreshToken string) (*oauth2server.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.refresh[oauth2server.TokenDigest(refreshToken)]
	if !ok {
		return nil, nil
	}
	t := cloneToken(rec)
	t.RefreshToken = refreshToken
	return t, nil
}

// RevokeToken implements oauth2server.RefreshTokenModel. It finds the
// record by whichever token string t carries and reports true only to the
// call that changed it from live to revoked.
func (m *Model) RevokeToken(ctx context.Context, t *oauth2server.Token) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var rec *oauth2server.Token
	if t.AccessToken != "" {
		rec = m.access[oauth2server.TokenDigest(t.AccessToken)]
	}
	if rec == nil && t.RefreshToken != "" {
		rec = m.refresh[oauth2server.TokenDigest(t.RefreshToken)]
	}
	if rec == nil || rec.Revoked {
		return false, nil // unknown, or revoked by an earlier call
	}
	rec.Revoked = true
	return true, nil
}

// RevokeGrant implements oauth2server.GrantModel: every token and
// code of the family, and every token saved for it later, is revoked.
func (m *Model) RevokeGrant(ctx context.Context, grantID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if grantID == "" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.revokedGrants[grantID] = true
	for _, index := range []map[string]*oauth2server.Token{m.access, m.refresh} {
		for _, rec := range index {
			if rec.GrantID == grantID {
				rec.Revoked = true
			}
		}
	}
	for _, c := range m.codes {
		if c.GrantID == grantID {
			c.Revoked = true
		}
	}
	return nil
}

// SaveAuthorizationCode implements oauth2server.AuthorizationCodeModel.
func (m *Model) SaveAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode, _ *oauth2server.Client, _ *oauth2server.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec := cloneCode(c)
	rec.Code = ""
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.revokedGrants[rec.GrantID] {
		rec.Revoked = true
	}
	m.codes[oauth2server.TokenDigest(c.Code)] = rec
	return nil
}

// GetAuthorizationCode implements oauth2server.AuthorizationCodeModel. A
// redeemed code is returned with Revoked set until it is deleted, so that
// a replay is detected.
func (m *Model) GetAuthorizationCode(ctx context.Context, code string) (*oauth2server.AuthorizationCode, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.codes[oauth2server.TokenDigest(code)]
	if !ok {
		return nil, nil
	}
	c := cloneCode(rec)
	c.Code = code
	return c, nil
}

// RevokeAuthorizationCode implements oauth2server.AuthorizationCodeModel:
// of concurrent calls for one code exactly one reports true.
func (m *Model) RevokeAuthorizationCode(ctx context.Context, c *oauth2server.AuthorizationCode) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.codes[oauth2server.TokenDigest(c.Code)]
	if !ok || rec.Revoked {
		return false, nil
	}
	rec.Revoked = true
	return true, nil
}

// The clone functions copy slices and Extra too: a shallow copy would let a
// caller change the store by changing what it saved or got back.

func cloneClient(c *oauth2server.Client) *oauth2server.Client {
	cp := *c
	cp.RedirectURIs = slices.Clone(c.RedirectURIs)
	cp.Grants = slices.Clone(c.Grants)
	cp.Scopes = slices.Clone(c.Scopes)
	cp.Extra = maps.Clone(c.Extra)
	return &cp
}

func cloneToken(t *oauth2server.Token) *oauth2server.Token {
	cp := *t
	cp.Scope = slices.Clone(t.Scope)
	cp.RefreshTokenScope = slices.Clone(t.RefreshTokenScope) // nil stays nil: "same as Scope"
	cp.Actor = t.Actor.Clone()                               // a chain of pointers
	cp.OpenID = t.OpenID.Clone()
	cp.Resources = slices.Clone(t.Resources)
	cp.RefreshTokenResources = slices.Clone(t.RefreshTokenResources) // nil stays nil, likewise
	cp.Extra = maps.Clone(t.Extra)
	return &cp
}

func cloneCode(c *oauth2server.AuthorizationCode) *oauth2server.AuthorizationCode {
	cp := *c
	cp.Scope = slices.Clone(c.Scope)
	cp.OpenID = c.OpenID.Clone()
	cp.Resources = slices.Clone(c.Resources)
	cp.Extra = maps.Clone(c.Extra)
	return &cp
}
