package memorymodel

import (
	"context"
	stderrors "errors"
	"slices"
	"time"

	"github.com/echo-oauth2/oauth2server"
)

var (
	_ oauth2server.GrantListModel   = (*Model)(nil)
	_ oauth2server.ConsentListModel = (*Model)(nil)
)

// ListGrants implements [oauth2server.GrantListModel]. It walks the grant
// families of every shard, one shard's read lock at a time: no index by
// user or client is kept, so that saving a token costs nothing more, and a
// listing costs a walk of the store. That suits the rare listing and mass
// revocation this model's single-instance deployments do.
func (m *Model) ListGrants(ctx context.Context, userID, clientID string) ([]oauth2server.GrantInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if userID == "" && clientID == "" {
		return nil, stderrors.New("memorymodel: list grants: user id or client id is required")
	}
	match := func(u, c string) bool {
		return (userID == "" || u == userID) && (clientID == "" || c == clientID)
	}
	now := m.now()
	var out []oauth2server.GrantInfo
	for i := range m.shards {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		found := map[string]*familyInfo{}
		s := &m.shards[i]
		s.mu.RLock()
		for _, head := range s.tokenFamilies {
			for r := head; r != nil; r = r.next {
				t := &r.box.t
				if match(t.UserID, t.ClientID) {
					live := !r.revoked.Load() && !r.gone(now)
					familyOf(found, t.GrantID, t.ClientID, t.UserID).add(t.IssuedAt, live, t.Scope, t.RefreshTokenScope)
				}
			}
		}
		for _, head := range s.codeFamilies {
			for r := head; r != nil; r = r.next {
				c := &r.c
				if match(c.UserID, c.ClientID) {
					live := !r.revoked.Load() && !now.After(c.ExpiresAt)
					familyOf(found, c.GrantID, c.ClientID, c.UserID).add(c.IssuedAt, live, c.Scope, nil)
				}
			}
		}
		s.mu.RUnlock()
		for _, f := range found {
			if f.live {
				out = append(out, f.info)
			}
		}
	}
	return out, nil
}

// familyInfo gathers the GrantInfo of one family.
type familyInfo struct {
	info oauth2server.GrantInfo
	live bool
}

func familyOf(found map[string]*familyInfo, grantID, clientID, userID string) *familyInfo {
	f := found[grantID]
	if f == nil {
		f = &familyInfo{info: oauth2server.GrantInfo{GrantID: grantID, ClientID: clientID, UserID: userID}}
		found[grantID] = f
	}
	return f
}

// add counts an item of the family issued at issuedAt; the scopes of
// live items join the family's.
func (f *familyInfo) add(issuedAt time.Time, live bool, scopes ...[]string) {
	if f.info.FirstIssuedAt.IsZero() || issuedAt.Before(f.info.FirstIssuedAt) {
		f.info.FirstIssuedAt = issuedAt
	}
	if issuedAt.After(f.info.LastIssuedAt) {
		f.info.LastIssuedAt = issuedAt
	}
	if !live {
		return
	}
	f.live = true
	for _, scope := range scopes {
		for _, sc := range scope {
			if !slices.Contains(f.info.Scope, sc) {
				f.info.Scope = append(f.info.Scope, sc)
			}
		}
	}
}

// ListConsents implements [oauth2server.ConsentListModel]. It walks every
// consent under the lock they share, and leaves out the expired ones.
func (m *Model) ListConsents(ctx context.Context, userID, clientID string) ([]*oauth2server.Consent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if userID == "" && clientID == "" {
		return nil, stderrors.New("memorymodel: list consents: user id or client id is required")
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	now := m.now()
	var out []*oauth2server.Consent
	for k, c := range m.consents.byPair {
		if (userID == "" || k.userID == userID) && (clientID == "" || k.clientID == clientID) {
			if live := liveConsent(c, now); live != nil {
				out = append(out, live)
			}
		}
	}
	return out, nil
}
