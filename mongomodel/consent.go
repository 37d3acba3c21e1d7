package mongomodel

import (
	"context"
	stderrors "errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
)

var (
	_ oauth2server.ConsentModel       = (*Model)(nil)
	_ oauth2server.ConsentLookupModel = (*Model)(nil)
)

// consentDoc is the consent of one user for one client. Client and user
// are kept as fields too, so that an application can list or delete the
// consents of a user with its own queries.
//
// ConsentID is the consent's id ([oauth2server.Consent.ID]), under a unique
// sparse index: consents saved by earlier versions of this package had
// none until EnsureIndexes gave them one. ExpiresAt is absent for a consent
// that does not expire, so that the TTL index, which deletes a document
// once its date passed, never sees a zero date.
type consentDoc struct {
	ID        string     `bson:"_id"`
	ConsentID string     `bson:"consentId,omitempty"`
	Client    string     `bson:"client"`
	User      string     `bson:"user"`
	Scope     []string   `bson:"scope"`
	GrantedAt time.Time  `bson:"grantedAt"`
	ExpiresAt *time.Time `bson:"expiresAt,omitempty"`
}

// consent returns the consent d holds, or nil when it expired at now: the
// TTL index or DeleteExpired deletes it later, if at all.
func (d *consentDoc) consent(now time.Time) *oauth2server.Consent {
	c := &oauth2server.Consent{ID: d.ConsentID, ClientID: d.Client, UserID: d.User, Scope: d.Scope, GrantedAt: d.GrantedAt}
	if d.ExpiresAt != nil {
		c.ExpiresAt = *d.ExpiresAt
	}
	if c.Expired(now) {
		return nil
	}
	return c
}

// consentID is the _id of a consent: the client id, length-prefixed so that
// no two (client, user) pairs share an id, then the user id.
func consentID(clientID, userID string) string {
	return strconv.Itoa(len(clientID)) + ":" + clientID + userID
}

// FindConsent implements [oauth2server.ConsentModel]. An expired consent
// is nil.
func (m *Model) FindConsent(ctx context.Context, clientID, userID string) (*oauth2server.Consent, error) {
	return m.findConsent(ctx, "find consent", bson.D{{Key: "_id", Value: consentID(clientID, userID)}})
}

// GetConsentByID implements [oauth2server.ConsentLookupModel] through the
// unique index on consentId. An expired consent is nil.
func (m *Model) GetConsentByID(ctx context.Context, id string) (*oauth2server.Consent, error) {
	if id == "" {
		// No document stores an empty id (omitempty).
		return nil, ctx.Err()
	}
	return m.findConsent(ctx, "get consent by id", bson.D{{Key: "consentId", Value: id}})
}

func (m *Model) findConsent(ctx context.Context, op string, filter bson.D) (*oauth2server.Consent, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d consentDoc
	found, err := findOne(ctx, m.consents, filter, &d)
	if err != nil {
		return nil, wrap(op, err)
	}
	if !found {
		return nil, nil
	}
	return d.consent(m.opts.Now()), nil
}

// SaveConsent implements [oauth2server.ConsentModel]: one upsert replaces
// any earlier consent of the user for the client. A consent without an ID
// gets a new one ([oauth2server.NewConsentID]). Two concurrent upserts of a
// new consent can both try the insert; the loser's duplicate key error
// means the document exists now, so it retries as a plain replace. A
// duplicate key because another user's or client's consent holds the ID is
// an error wrapping [ErrDuplicate].
func (m *Model) SaveConsent(ctx context.Context, c *oauth2server.Consent) error {
	if c == nil || c.ClientID == "" || c.UserID == "" {
		return stderrors.New("mongomodel: save consent: client id and user id are required")
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	id := consentID(c.ClientID, c.UserID)
	scope := c.Scope
	if scope == nil {
		scope = []string{}
	}
	doc := consentDoc{ID: id, ConsentID: c.ID, Client: c.ClientID, User: c.UserID, Scope: scope, GrantedAt: c.GrantedAt}
	if doc.ConsentID == "" {
		doc.ConsentID = oauth2server.NewConsentID()
	}
	if !c.ExpiresAt.IsZero() {
		doc.ExpiresAt = &c.ExpiresAt
	}
	var err error
	for range 3 {
		_, err = m.consents.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc, options.Replace().SetUpsert(true))
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
		taken, ferr := m.consentIDTaken(ctx, doc.ConsentID, id)
		if ferr != nil {
			return wrap("save consent", ferr)
		}
		if taken {
			return fmt.Errorf("mongomodel: save consent: the id belongs to another consent: %w", ErrDuplicate)
		}
	}
	if err != nil {
		return wrap("save consent", err)
	}
	return nil
}

// consentIDTaken reports whether a consent other than the one with _id
// self holds the consent id.
func (m *Model) consentIDTaken(ctx context.Context, consentID, self string) (bool, error) {
	return findOne(ctx, m.consents, bson.D{
		{Key: "consentId", Value: consentID},
		{Key: "_id", Value: bson.D{{Key: "$ne", Value: self}}},
	}, &bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}}))
}

// RevokeConsent implements [oauth2server.ConsentModel]. Deleting the
// document deletes its id with it.
func (m *Model) RevokeConsent(ctx context.Context, clientID, userID string) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	if _, err := m.consents.DeleteOne(ctx, bson.D{{Key: "_id", Value: consentID(clientID, userID)}}); err != nil {
		return wrap("revoke consent", err)
	}
	return nil
}
