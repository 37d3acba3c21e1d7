package memorymodel

import (
	"context"
	"time"
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
	m.deny(jti, expiresAt)
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
	s := m.shard(jti)
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.revokedJTIs[jti]
	return ok, nil
}

// deny puts jti on the deny-list, keeping the later expiry.
func (m *Model) deny(jti string, expiresAt time.Time) {
	s := m.shard(jti)
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.revokedJTIs[jti]; !ok || expiresAt.After(at) {
		s.revokedJTIs[jti] = expiresAt
	}
	s.wroteLocked(m.now)
}

// denyRecord deny-lists the ID of a stored token until its access token
// expires.
func (m *Model) denyRecord(r *tokenRecord) {
	if t := &r.box.t; t.ID != "" {
		m.deny(t.ID, t.AccessTokenExpiresAt)
	}
}
