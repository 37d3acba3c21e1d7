package memorymodel

import (
	"context"
	"fmt"

	"github.com/echo-oauth2/oauth2server"
)

var _ oauth2server.TokenExchangeModel = (*Model)(nil)

// SetExchangePolicy sets the token exchange rule of a client
// ([oauth2server.ExchangePolicy]), replacing its previous one. A client
// without a rule may not exchange tokens. An unknown client is an error.
func (m *Model) SetExchangePolicy(ctx context.Context, p *oauth2server.ExchangePolicy) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := m.clients.load(p.ClientID); !ok {
		return fmt.Errorf("memorymodel: set exchange policy: no client %q", p.ClientID)
	}
	a := &m.assertions
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.policies == nil {
		a.policies = make(map[string]*oauth2server.ExchangePolicy)
	}
	a.policies[p.ClientID] = p.Clone()
	return nil
}

// AuthorizeTokenExchange implements [oauth2server.TokenExchangeModel]: the
// decision of the client's rule, set with SetExchangePolicy; a client
// without one is refused.
func (m *Model) AuthorizeTokenExchange(ctx context.Context, req *oauth2server.TokenExchangeRequest) (*oauth2server.TokenExchangeDecision, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := &m.assertions
	a.mu.RLock()
	p := a.policies[req.Client.ID]
	a.mu.RUnlock()
	if p == nil {
		return nil, nil
	}
	return p.Decide(req)
}
