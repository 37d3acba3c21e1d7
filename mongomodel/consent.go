package mongomodel

import (
	"context"
	stderrors "errors"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
)

var _ oauth2server.ConsentModel = (*Model)(nil)

// consentDoc is the consent of one user for one client. Client and user
// are kept as fields too, so that an application can list or delete the
// consents of a user with its own queries.
type consentDoc struct {
	ID        string    `bson:"_id"`
	Client    string    `bson:"client"`
	User      string    `bson:"user"`
	Scope     []string  `bson:"scope"`
	GrantedAt time.Time `bson:"grantedAt"`
}

// consentID is the _id of a consent: the client id, length-prefixed so that
// no two (client, user) pairs share an id, then the user id.
func consentID(clientID, userID string) string {
	return strconv.Itoa(len(clientID)) + ":" + clientID + userID
}

// FindConsent implements [oauth2server.ConsentModel].
func (m *Model) FindConsent(ctx context.Context, clientID, userID string) (*oauth2server.Consent, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d consentDoc
	found, err := findOne(ctx, m.consents, bson.D{{Key: "_id", Value: consentID(clientID, userID)}}, &d)
	if err != nil {
		return nil, wrap("find consent", err)
	}
	if !found {
		return nil, nil
	}
	return &oauth2server.Consent{ClientID: d.Client, UserID: d.User, Scope: d.Scope, GrantedAt: d.GrantedAt}, nil
}

// SaveConsent implements [oauth2server.ConsentModel]: one upsert replaces
// any earlier consent of the user for the client. Two concurrent upserts of
// a new consent can both try the insert; the loser's duplicate key error
// means the document exists now, so it retries as a plain replace.
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
	doc := consentDoc{ID: id, Client: c.ClientID, User: c.UserID, Scope: scope, GrantedAt: c.GrantedAt}
	var err error
	for range 3 {
		_, err = m.consents.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc, options.Replace().SetUpsert(true))
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	if err != nil {
		return wrap("save consent", err)
	}
	return nil
}

// RevokeConsent implements [oauth2server.ConsentModel].
func (m *Model) RevokeConsent(ctx context.Context, clientID, userID string) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	if _, err := m.consents.DeleteOne(ctx, bson.D{{Key: "_id", Value: consentID(clientID, userID)}}); err != nil {
		return wrap("revoke consent", err)
	}
	return nil
}
