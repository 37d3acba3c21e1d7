package memorymodel

import (
	"context"
	"time"

	"github.com/echo-oauth2/oauth2server"
)

// RevokeJTI implements [oauth2server.RevokedJTIModel]: jti stays on the
// deny-list until expiresAt.
func (m *Model) RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if jti == "" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.denyLocked(jti, expiresAt)
	m.wroteLocked()
	return nil
}

// IsJTIRevoked implements [oauth2server.RevokedJTIModel]. It also reports
// the IDs of every token record the model marked revoked (RevokeToken,
// RevokeGrant, SaveToken into a revoked grant), which is how revoking a
// grant family reaches its JWT access tokens.
func (m *Model) IsJTIRevoked(ctx context.Context, jti string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.revokedJTIs[jti]
	return ok, nil
}

// denyLocked puts jti on the deny-list, keeping the later expiry.
func (m *Model) denyLocked(jti string, expiresAt time.Time) {
	if at, ok := m.revokedJTIs[jti]; !ok || expiresAt.After(at) {
		m.revokedJTIs[jti] = expiresAt
	}
}

// revokeTokenLocked marks a stored token revoked and deny-lists its ID.
func (m *Model) revokeTokenLocked(t *oauth2server.Token) {
	t.Revoked = true
	if t.ID != "" {
		m.denyLocked(t.ID, t.AccessTokenExpiresAt)
	}
}

// sweepJTIsLocked drops deny-list entries of expired tokens.
func (m *Model) sweepJTIsLocked(now time.Time) {
	for jti, at := range m.revokedJTIs {
		if now.After(at) {
			delete(m.revokedJTIs, jti)
		}
	}
}
