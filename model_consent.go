package oauth2server

import (
	"context"
	"time"
)

// Consent records that a user approved a client for a set of scopes, so that
// a later authorization request of the same client for scopes within them
// can skip the consent page.
type Consent struct {
	// ClientID is the client the user approved.
	ClientID string
	// UserID is the user who approved it.
	UserID string
	// Scope is every scope the user approved for the client.
	Scope []string
	// GrantedAt is when the consent was last given or widened.
	GrantedAt time.Time
}

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
	FindConsent(ctx context.Context, clientID, userID string) (*Consent, error)
	// SaveConsent stores consent, replacing any earlier consent of the same
	// user for the same client. Callers that widen a consent pass the union
	// of the old and the new scope.
	SaveConsent(ctx context.Context, consent *Consent) error
	// RevokeConsent deletes the consent of the user for the client. Deleting
	// a consent that does not exist is not an error.
	RevokeConsent(ctx context.Context, clientID, userID string) error
}

// ConsentCovers reports whether consent (which may be nil) approves every
// scope in scope. A nil consent covers nothing, not even an empty scope: a
// user who never approved a client must see the consent page once.
func ConsentCovers(consent *Consent, scope []string) bool {
	if consent == nil {
		return false
	}
	return ScopeCovers(consent.Scope, scope)
}
