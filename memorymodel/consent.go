package memorymodel

import (
	"context"
	stderrors "errors"
	"slices"

	"github.com/echo-oauth2/oauth2server"
)

var _ oauth2server.ConsentModel = (*Model)(nil)

// consentKey identifies the consent of one user for one client.
type consentKey struct{ clientID, userID string }

func cloneConsent(c *oauth2server.Consent) *oauth2server.Consent {
	cp := *c
	cp.Scope = slices.Clone(c.Scope)
	return &cp
}

// FindConsent implements [oauth2server.ConsentModel].
func (m *Model) FindConsent(ctx context.Context, clientID, userID string) (*oauth2server.Consent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.consents[consentKey{clientID, userID}]
	if !ok {
		return nil, nil
	}
	return cloneConsent(c), nil
}

// SaveConsent implements [oauth2server.ConsentModel]: it replaces any
// earlier consent of the user for the client.
func (m *Model) SaveConsent(ctx context.Context, c *oauth2server.Consent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c == nil || c.ClientID == "" || c.UserID == "" {
		return stderrors.New("memorymodel: consent needs a client id and a user id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.consents[consentKey{c.ClientID, c.UserID}] = cloneConsent(c)
	return nil
}

// RevokeConsent implements [oauth2server.ConsentModel].
func (m *Model) RevokeConsent(ctx context.Context, clientID, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.consents, consentKey{clientID, userID})
	return nil
}
