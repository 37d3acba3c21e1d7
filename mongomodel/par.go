package mongomodel

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/echo-oauth2/oauth2server"
)

var _ oauth2server.PushedAuthorizationRequestModel = (*Model)(nil)

// pushedDoc is one pushed authorization request, keyed by the digest of
// its request_uri. Its consumption is a claim ("p:" + _id), not a field:
// the unique insert is what makes it single use.
type pushedDoc struct {
	ID         string    `bson:"_id"`
	ClientID   string    `bson:"clientId"`
	Parameters string    `bson:"params"`
	IssuedAt   time.Time `bson:"issuedAt"`
	ExpiresAt  time.Time `bson:"expiresAt"`
}

// SavePushedAuthorizationRequest implements
// [oauth2server.PushedAuthorizationRequestModel]. It stores the digest of
// the request_uri, never the request_uri itself.
func (m *Model) SavePushedAuthorizationRequest(ctx context.Context, req *oauth2server.PushedAuthorizationRequest) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	d := pushedDoc{ID: oauth2server.TokenDigest(req.RequestURI), ClientID: req.ClientID, Parameters: req.Parameters,
		IssuedAt: req.IssuedAt, ExpiresAt: req.ExpiresAt}
	if _, err := m.pushed.InsertOne(ctx, d); err != nil {
		return wrap("save pushed authorization request", err)
	}
	return nil
}

// GetPushedAuthorizationRequest implements
// [oauth2server.PushedAuthorizationRequestModel]: nil when unknown or
// consumed (its claim exists, even if deleting the request failed).
func (m *Model) GetPushedAuthorizationRequest(ctx context.Context, requestURI string) (*oauth2server.PushedAuthorizationRequest, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	id := oauth2server.TokenDigest(requestURI)
	var d pushedDoc
	found, err := findOne(ctx, m.pushed, bson.D{{Key: "_id", Value: id}}, &d)
	if err != nil || !found {
		return nil, wrapIf("get pushed authorization request", err)
	}
	var c claimDoc
	consumed, err := findOne(ctx, m.claims, bson.D{{Key: "_id", Value: "p:" + id}}, &c)
	if err != nil || consumed {
		return nil, wrapIf("get pushed authorization request", err)
	}
	return &oauth2server.PushedAuthorizationRequest{RequestURI: requestURI, ClientID: d.ClientID,
		Parameters: d.Parameters, IssuedAt: d.IssuedAt, ExpiresAt: d.ExpiresAt}, nil
}

// ConsumePushedAuthorizationRequest implements
// [oauth2server.PushedAuthorizationRequestModel]: the unique insert of the
// claim "p:" + digest decides, so of concurrent calls exactly one reports
// true, on MongoDB and on FerretDB alike. The request is deleted after.
func (m *Model) ConsumePushedAuthorizationRequest(ctx context.Context, requestURI string) (bool, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	id := oauth2server.TokenDigest(requestURI)
	var d pushedDoc
	found, err := findOne(ctx, m.pushed, bson.D{{Key: "_id", Value: id}}, &d)
	if err != nil || !found {
		return false, wrapIf("consume pushed authorization request", err)
	}
	c := claimDoc{ID: "p:" + id, ExpiresAt: m.opts.Now().Add(claimLifetime)}
	if _, err := m.claims.InsertOne(ctx, c); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return false, nil
		}
		return false, wrap("consume pushed authorization request", err)
	}
	// The claim decided; a failed delete leaves a request that reads as
	// consumed until it expires (claimLifetime outlasts every request).
	_, _ = m.pushed.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return true, nil
}
