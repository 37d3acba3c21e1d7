package oauth2server

import (
	"context"
	"slices"
	"strings"
	"time"
)

// GrantInfo describes one live grant family: the tokens and codes that
// descend from one authorization of a client by a user ([Token.GrantID]).
type GrantInfo struct {
	// GrantID identifies the family.
	GrantID string
	// ClientID is the client the family was issued to.
	ClientID string
	// UserID is the resource owner, empty for a family without one
	// (client_credentials without [ClientUserModel]).
	UserID string
	// Scope is the union of the scopes of the family's live tokens and
	// codes, refresh token scopes included.
	Scope []string
	// FirstIssuedAt is the IssuedAt of the family's oldest stored token or
	// code: when the client first used the authorization.
	FirstIssuedAt time.Time
	// LastIssuedAt is the IssuedAt of its newest stored token or code:
	// when the client last got a token with it, by a code exchange or a
	// refresh. Using an access token at a resource server does not count;
	// nothing is written on such requests.
	LastIssuedAt time.Time
}

// GrantListModel finds grant families by user and client, for grant
// management: [Server.ListAuthorizations], [Server.RevokeAuthorization],
// [Server.RevokeAllForUser] and [Server.RevokeAllForClient]. Without it
// those methods report an error; nothing else uses it.
type GrantListModel interface {
	// ListGrants returns every live family of the user with the client.
	// An empty userID matches every user, families without a user
	// included; an empty clientID matches every client; both empty is an
	// error.
	//
	// A family is live while it has a token or code that is neither
	// revoked nor expired (a token until both its access and its refresh
	// token expired). FirstIssuedAt and LastIssuedAt cover every stored
	// item of the family, live or not. The order is unspecified.
	ListGrants(ctx context.Context, userID, clientID string) ([]GrantInfo, error)
}

// ConsentListModel finds remembered consents by user and client, for grant
// management like [GrantListModel]. Without it [Server.RevokeAllForUser]
// and [Server.RevokeAllForClient] report an error when the model has a
// [ConsentModel] (the consents they must delete could not be found), and
// [Server.ListAuthorizations] shows only clients that hold tokens.
type ConsentListModel interface {
	// ListConsents returns the consents of the user for the client; an
	// empty userID or clientID matches every user or client, both empty is
	// an error. Expired consents are left out, as FindConsent leaves them
	// out. The order is unspecified.
	ListConsents(ctx context.Context, userID, clientID string) ([]*Consent, error)
}

// Authorization is what a user granted one client: the remembered consent
// and the live grant families, as the "connected apps" page of an account
// shows them.
type Authorization struct {
	// ClientID is the client.
	ClientID string
	// Scope is the union of the consent's scope and the scopes of the live
	// families.
	Scope []string
	// Consent is the remembered consent, nil when there is none or it
	// expired. Its ID names it to [Server.FindConsentByID] and
	// [Server.RevokeConsentByID].
	Consent *Consent
	// GrantIDs are the live families, in the order of their FirstIssuedAt.
	GrantIDs []string
	// FirstUsed is the earliest FirstIssuedAt of the live families, and
	// LastUsed the latest LastIssuedAt ([GrantInfo]); zero without a
	// live family.
	FirstUsed time.Time
	LastUsed  time.Time
}

// ListAuthorizations returns the clients the user authorized, sorted by
// client id: every client with a remembered consent ([ConsentListModel])
// or a live grant family ([GrantListModel]). It needs at least one of the
// two capabilities.
func (s *Server) ListAuthorizations(ctx context.Context, userID string) ([]Authorization, error) {
	if userID == "" {
		return nil, errorf("list authorizations: user id is empty")
	}
	if s.grantList == nil && s.consentList == nil {
		return nil, errorf("list authorizations needs GrantListModel or ConsentListModel, which the model does not implement")
	}
	return s.authorizations(ctx, userID, "")
}

// RevokeAuthorization withdraws everything the user granted the client:
// it deletes the remembered consent, so that the next authorization
// request shows the consent page again, and revokes every grant family of
// the user with the client ([GrantModel.RevokeGrant]: their refresh
// tokens, opaque access tokens and codes, and the jti of their JWT access
// tokens goes on the deny-list). It records an [EventConsentRevoked].
// Revoking what does not exist is not an error.
//
// It needs [GrantListModel] and [GrantModel]; the consent is deleted when
// the model has a [ConsentModel].
func (s *Server) RevokeAuthorization(ctx context.Context, userID, clientID string) error {
	if userID == "" || clientID == "" {
		return errorf("revoke authorization: user id and client id are required")
	}
	return s.revokeAuthorizations(ctx, userID, clientID, false, nil)
}

// FindConsentByID returns the remembered consent with the id ([Consent.ID]),
// or nil when there is none or it expired. It needs [ConsentLookupModel].
//
// SECURITY: an id is no proof of anything. A page that takes an id from
// its user must check that the consent's UserID is the signed-in user's
// before it shows or revokes it.
func (s *Server) FindConsentByID(ctx context.Context, id string) (*Consent, error) {
	if id == "" {
		return nil, errorf("find consent: id is empty")
	}
	if s.consentIDs == nil {
		return nil, errorf("find consent needs ConsentLookupModel, which the model does not implement")
	}
	return s.consentByID(ctx, id)
}

// consentByID looks the consent up and drops an expired one, which a
// model may still return.
func (s *Server) consentByID(ctx context.Context, id string) (*Consent, error) {
	c, err := s.consentIDs.GetConsentByID(ctx, id)
	if err != nil {
		return nil, errorf("find consent: %w", err)
	}
	if c == nil || c.Expired(s.now()) {
		return nil, nil
	}
	return c, nil
}

// RevokeConsentByID finds the consent with the id ([Server.FindConsentByID])
// and revokes the authorization it belongs to, as
// [Server.RevokeAuthorization] does for its user and client: the consent
// is deleted, every grant family of the user with the client is revoked,
// and an [EventConsentRevoked] is recorded. It returns the consent it
// found, nil when no live consent has the id, which is not an error and
// revokes nothing: the families of an expired consent are revoked with
// RevokeAuthorization. It needs [ConsentLookupModel], [GrantListModel]
// and [GrantModel]; see FindConsentByID's SECURITY note.
func (s *Server) RevokeConsentByID(ctx context.Context, id string) (*Consent, error) {
	if id == "" {
		return nil, errorf("revoke consent: id is empty")
	}
	if s.consentIDs == nil || s.grantList == nil || s.families == nil {
		return nil, errorf("revoking a consent by id needs ConsentLookupModel, GrantListModel and GrantModel, " +
			"which the model does not implement")
	}
	c, err := s.consentByID(ctx, id)
	if c == nil || err != nil {
		return nil, err
	}
	if err := s.revokeAuthorizations(ctx, c.UserID, c.ClientID, false, c); err != nil {
		return nil, err
	}
	return c, nil
}

// RevokeAllForUser revokes every authorization of the user, as
// [Server.RevokeAuthorization] does for each client: after a password
// change or a compromised account. It records an [EventConsentRevoked]
// per client. It needs [GrantListModel] and [GrantModel], and
// [ConsentListModel] when the model has a [ConsentModel].
func (s *Server) RevokeAllForUser(ctx context.Context, userID string) error {
	if userID == "" {
		return errorf("revoke all for user: user id is empty")
	}
	return s.revokeAuthorizations(ctx, userID, "", true, nil)
}

// RevokeAllForClient revokes every authorization of every user for the
// client, and its families without a user (client_credentials): after the
// client was compromised. Disable or re-key the client as well, or it
// gets new tokens. It records an [EventConsentRevoked] per user. Its needs
// are those of [Server.RevokeAllForUser].
func (s *Server) RevokeAllForClient(ctx context.Context, clientID string) error {
	if clientID == "" {
		return errorf("revoke all for client: client id is empty")
	}
	return s.revokeAuthorizations(ctx, "", clientID, true, nil)
}

// revokeAuthorizations deletes the consents, then revokes the families, of
// userID with clientID ("" matches all). Consents go first: a client that
// still holds a live refresh token cannot then get back in through an
// authorization request that skips the consent page. known is the consent
// of one user and client when the caller has read it, so that the event
// names its scope.
func (s *Server) revokeAuthorizations(ctx context.Context, userID, clientID string, many bool, known *Consent) error {
	if s.grantList == nil || s.families == nil {
		return errorf("revoking authorizations needs GrantListModel and GrantModel, which the model does not implement")
	}
	if many && s.consents != nil && s.consentList == nil {
		return errorf("revoking authorizations needs ConsentListModel beside ConsentModel, which the model does not implement")
	}
	type pair struct{ user, client string }
	revoked := map[pair]*Event{}
	event := func(user, client string) *Event {
		p := pair{user, client}
		if e := revoked[p]; e != nil {
			return e
		}
		e := &Event{Kind: EventConsentRevoked, UserID: user, ClientID: client}
		revoked[p] = e
		return e
	}
	if s.consents != nil {
		var consents []*Consent
		if many {
			var err error
			if consents, err = s.consentList.ListConsents(ctx, userID, clientID); err != nil {
				return errorf("list consents: %w", err)
			}
		} else if known != nil {
			consents = []*Consent{known}
		} else {
			consents = []*Consent{{UserID: userID, ClientID: clientID}}
		}
		for _, c := range consents {
			if err := s.consents.RevokeConsent(ctx, c.ClientID, c.UserID); err != nil {
				return errorf("revoke consent: %w", err)
			}
			e := event(c.UserID, c.ClientID)
			e.Scope = slices.Clone(c.Scope)
		}
	}
	grants, err := s.grantList.ListGrants(ctx, userID, clientID)
	if err != nil {
		return errorf("list grants: %w", err)
	}
	for _, g := range grants {
		if err := s.families.RevokeGrant(ctx, g.GrantID); err != nil {
			return errorf("revoke grant: %w", err)
		}
		e := event(g.UserID, g.ClientID)
		e.Scope = unionScope(e.Scope, g.Scope)
	}
	// One event per user and client, in a stable order.
	keys := make([]pair, 0, len(revoked))
	for p := range revoked {
		keys = append(keys, p)
	}
	slices.SortFunc(keys, func(a, b pair) int {
		if a.user != b.user {
			return strings.Compare(a.user, b.user)
		}
		return strings.Compare(a.client, b.client)
	})
	for _, p := range keys {
		s.Record(ctx, *revoked[p])
	}
	return nil
}

// authorizations merges the consents and the live families of userID
// with clientID by client.
func (s *Server) authorizations(ctx context.Context, userID, clientID string) ([]Authorization, error) {
	byClient := map[string]*Authorization{}
	get := func(id string) *Authorization {
		a := byClient[id]
		if a == nil {
			a = &Authorization{ClientID: id}
			byClient[id] = a
		}
		return a
	}
	if s.consentList != nil {
		consents, err := s.consentList.ListConsents(ctx, userID, clientID)
		if err != nil {
			return nil, errorf("list consents: %w", err)
		}
		now := s.now()
		for _, c := range consents {
			if c.Expired(now) {
				// A model may return what it has not swept yet.
				continue
			}
			a := get(c.ClientID)
			a.Consent = c
			a.Scope = unionScope(a.Scope, c.Scope)
		}
	}
	if s.grantList != nil {
		grants, err := s.grantList.ListGrants(ctx, userID, clientID)
		if err != nil {
			return nil, errorf("list grants: %w", err)
		}
		slices.SortFunc(grants, func(a, b GrantInfo) int {
			if c := a.FirstIssuedAt.Compare(b.FirstIssuedAt); c != 0 {
				return c
			}
			return strings.Compare(a.GrantID, b.GrantID)
		})
		for _, g := range grants {
			a := get(g.ClientID)
			a.GrantIDs = append(a.GrantIDs, g.GrantID)
			a.Scope = unionScope(a.Scope, g.Scope)
			if a.FirstUsed.IsZero() || g.FirstIssuedAt.Before(a.FirstUsed) {
				a.FirstUsed = g.FirstIssuedAt
			}
			if g.LastIssuedAt.After(a.LastUsed) {
				a.LastUsed = g.LastIssuedAt
			}
		}
	}
	out := make([]Authorization, 0, len(byClient))
	for _, a := range byClient {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Authorization) int { return strings.Compare(a.ClientID, b.ClientID) })
	return out, nil
}

// unionScope returns a with the scopes of b it lacks appended.
func unionScope(a, b []string) []string {
	for _, sc := range b {
		if !slices.Contains(a, sc) {
			a = append(a, sc)
		}
	}
	return a
}
