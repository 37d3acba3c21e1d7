package memorymodel

import (
	"context"
	stderrors "errors"
	"fmt"
	"slices"
	"time"

	"github.com/echo-oauth2/oauth2server"
)

var (
	_ oauth2server.ConsentModel       = (*Model)(nil)
	_ oauth2server.ConsentLookupModel = (*Model)(nil)
)

// consentSweepEvery is the fewest saved consents between two sweeps of
// expired ones; there are as many as the last sweep kept when that is
// more, so that a sweep's walk costs a constant per save however many
// consents are held (and the store holds at most about twice the live
// ones).
const consentSweepEvery = 256

// errConsentIDTaken is SaveConsent's answer to an id that a consent of
// another user or client holds.
var errConsentIDTaken = fmt.Errorf("memorymodel: save consent: the id belongs to another consent: %w", ErrDuplicate)

// consentKey identifies the consent of one user for one client.
type consentKey struct{ clientID, userID string }

// consentStore holds consents under the Model's mutex, by user and client
// and by id. Every stored consent has an id, and byID holds exactly the
// ids of the consents in byPair.
type consentStore struct {
	byPair map[consentKey]*oauth2server.Consent
	byID   map[string]consentKey
	saves  int // since the last sweep
	kept   int // consents the last sweep kept
}

func newConsentStore() consentStore {
	return consentStore{
		byPair: make(map[consentKey]*oauth2server.Consent),
		byID:   make(map[string]consentKey),
	}
}

// delete drops the consent of key and its id.
func (cs *consentStore) delete(key consentKey) {
	if c, ok := cs.byPair[key]; ok {
		delete(cs.byID, c.ID)
		delete(cs.byPair, key)
	}
}

// sweep drops every consent expired at now.
func (cs *consentStore) sweep(now time.Time) {
	for key, c := range cs.byPair {
		if c.Expired(now) {
			cs.delete(key)
		}
	}
	cs.saves, cs.kept = 0, len(cs.byPair)
}

// liveConsent returns a copy of c, or nil when c is nil or expired at now.
func liveConsent(c *oauth2server.Consent, now time.Time) *oauth2server.Consent {
	if c == nil || c.Expired(now) {
		return nil
	}
	return cloneConsent(c)
}

func cloneConsent(c *oauth2server.Consent) *oauth2server.Consent {
	cp := *c
	cp.Scope = slices.Clone(c.Scope)
	return &cp
}

// FindConsent implements [oauth2server.ConsentModel]. An expired consent
// is nil.
func (m *Model) FindConsent(ctx context.Context, clientID, userID string) (*oauth2server.Consent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return liveConsent(m.consents.byPair[consentKey{clientID, userID}], m.now()), nil
}

// GetConsentByID implements [oauth2server.ConsentLookupModel]. An expired
// consent is nil.
func (m *Model) GetConsentByID(ctx context.Context, id string) (*oauth2server.Consent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	key, ok := m.consents.byID[id]
	if !ok {
		return nil, nil
	}
	return liveConsent(m.consents.byPair[key], m.now()), nil
}

// SaveConsent implements [oauth2server.ConsentModel]: it replaces any
// earlier consent of the user for the client. A consent without an ID gets
// a new one ([oauth2server.NewConsentID]); an ID that a consent of another
// user or client holds is an error wrapping [ErrDuplicate]. Every few
// hundred saves (or as many as the store held after its last sweep), it
// drops the expired consents.
func (m *Model) SaveConsent(ctx context.Context, c *oauth2server.Consent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c == nil || c.ClientID == "" || c.UserID == "" {
		return stderrors.New("memorymodel: consent needs a client id and a user id")
	}
	cp := cloneConsent(c)
	if cp.ID == "" {
		cp.ID = oauth2server.NewConsentID()
	}
	key := consentKey{c.ClientID, c.UserID}
	m.mu.Lock()
	defer m.mu.Unlock()
	cs := &m.consents
	if holder, ok := cs.byID[cp.ID]; ok && holder != key {
		return errConsentIDTaken
	}
	cs.delete(key)
	cs.byPair[key] = cp
	cs.byID[cp.ID] = key
	if cs.saves++; cs.saves >= max(consentSweepEvery, cs.kept) {
		cs.sweep(m.now())
	}
	return nil
}

// RevokeConsent implements [oauth2server.ConsentModel]. The consent's id
// finds nothing afterwards.
func (m *Model) RevokeConsent(ctx context.Context, clientID, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.consents.delete(consentKey{clientID, userID})
	return nil
}
