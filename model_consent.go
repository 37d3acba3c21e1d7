package oauth2server

import (
	"context"
	"time"
)

// Consent records that a user approved a client for a set of scopes, so that
// a later authorization request of the same client for scopes within them
// can skip the consent page.
type Consent struct {
	// ID names the consent, for [Server.FindConsentByID] and
	// [Server.RevokeConsentByID]: an opaque random string
	// ([NewConsentID]) given when the consent is first saved and kept when
	// it is widened or saved again, so that a link to it stays valid for
	// as long as the user's approval lasts. It is empty for a consent
	// saved by a model or a caller that knows no ids.
	ID string
	// ClientID is the client the user approved.
	ClientID string
	// UserID is the user who approved it.
	UserID string
	// Scope is every scope the user approved for the client.
	Scope []string
	// GrantedAt is when the consent was last given or widened.
	GrantedAt time.Time
	// ExpiresAt is when the consent lapses: from then on it is absent
	// and the user is asked again. Zero: it lasts until it is revoked.
	// The authorization endpoints set it from their ConsentLifetime.
	ExpiresAt time.Time
}

// Expired reports whether the consent has lapsed at now: it has an
// ExpiresAt, and now is at or after it.
func (c *Consent) Expired(now time.Time) bool {
	return !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)
}

// consentIDBytes is the entropy of a consent id: 128 bits, enough that
// nobody guesses the id of another user's consent.
const consentIDBytes = 16

// NewConsentID returns a new random consent id: 128 bits from crypto/rand,
// base64url without padding. The authorization endpoints give one to each
// consent they save first; a model that implements [ConsentLookupModel]
// gives one to a consent saved without.
func NewConsentID() string { return cryptoRandomString(consentIDBytes) }

// ConsentModel remembers consent per client and user. It is optional and
// is used by authorization pages (the example server, or yours), not by the
// token endpoint: without it every authorization request shows the consent
// page.
//
// Remembering consent is a convenience; RFC 6749 §10.2 warns that repeated
// authorization requests should not be processed automatically without an
// assurance that the client is genuine. Only skip the consent page for
// clients whose redirect URIs are registered and matched exactly, and let
// users withdraw consent (RevokeConsent).
type ConsentModel interface {
	// FindConsent returns the consent of the user for the client, or nil.
	// An expired consent ([Consent.Expired]) is nil too: unlike a spent
	// code, it serves no later check, and pages read it from the model
	// directly.
	FindConsent(ctx context.Context, clientID, userID string) (*Consent, error)
	// SaveConsent stores consent, replacing any earlier consent of the same
	// user for the same client, with every field as given: ID and
	// ExpiresAt included. Callers that widen a consent pass the union of
	// the old and the new scope and the old ID.
	SaveConsent(ctx context.Context, consent *Consent) error
	// RevokeConsent deletes the consent of the user for the client. Deleting
	// a consent that does not exist is not an error.
	RevokeConsent(ctx context.Context, clientID, userID string) error
}

// ConsentLookupModel finds a remembered consent by its id ([Consent.ID]),
// for [Server.FindConsentByID] and [Server.RevokeConsentByID]: an account page
// or a support tool that names one consent in a link or a log. Without it
// those two methods report an error; nothing else uses it. It is a
// capability of its own so that a [ConsentModel] written before consent
// ids keeps working.
//
// A model that implements it gives a consent saved without an ID a new one
// ([NewConsentID]), keeps the ID it was given otherwise, and refuses an ID
// that a consent of another user or client holds: an id names one consent.
// The authorization endpoints give ids themselves, so that a consent has
// one with any model; the model's own is for callers that save consents
// without one.
type ConsentLookupModel interface {
	// GetConsentByID returns the consent with the id, or nil when there
	// is none or it expired ([Consent.Expired]).
	GetConsentByID(ctx context.Context, id string) (*Consent, error)
}

// ConsentCovers reports whether consent (which may be nil) approves every
// scope in scope. A nil consent covers nothing, not even an empty scope: a
// user who never approved a client must see the consent page once. It does
// not look at the clock: check [Consent.Expired] first.
func ConsentCovers(consent *Consent, scope []string) bool {
	if consent == nil {
		return false
	}
	return ScopeCovers(consent.Scope, scope)
}
