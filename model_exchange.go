package oauth2server

// Actor is the "act" (actor) claim of RFC 8693 §4.1: who acts on behalf of
// the token's subject, a delegation. Actor is the previous actor of a
// chain, nested as the claim nests it (the outermost is the current one).
// It holds identity claims only, never exp, nbf or aud.
type Actor struct {
	// Subject is the actor's "sub": a user ID, or a client ID when the
	// actor is a client.
	Subject string `json:"sub,omitempty"`
	// Issuer is the "iss" of the actor's identity when it is not this
	// server.
	Issuer string `json:"iss,omitempty"`
	// ClientID is the client the actor used, when known.
	ClientID string `json:"client_id,omitempty"`
	// Actor is the prior actor of a chain, or nil.
	Actor *Actor `json:"act,omitempty"`
}

// Clone returns a deep copy of a (nil for nil), for models that copy what
// they store.
func (a *Actor) Clone() *Actor {
	if a == nil {
		return nil
	}
	c := *a
	c.Actor = a.Actor.Clone()
	return &c
}
