package mongomodel

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
)

var _ oauth2server.TokenExchangeModel = (*Model)(nil)

// policyDoc is a client's [oauth2server.ExchangePolicy], in the
// exchange_policies collection: _id = client id.
type policyDoc struct {
	ID             string   `bson:"_id"`
	Audiences      []string `bson:"audiences,omitempty"`
	SubjectIssuers []string `bson:"subjectIssuers"`
	Impersonation  bool     `bson:"impersonation,omitempty"`
	Delegation     bool     `bson:"delegation,omitempty"`
	ActorSubjects  []string `bson:"actorSubjects,omitempty"`
	Scopes         []string `bson:"scopes"`
	RefreshTokens  bool     `bson:"refreshTokens,omitempty"`
}

// SetExchangePolicy sets the token exchange rule of a client
// ([oauth2server.ExchangePolicy]), replacing its previous one. A client
// without a rule may not exchange tokens. An unknown client is an error.
func (m *Model) SetExchangePolicy(ctx context.Context, p *oauth2server.ExchangePolicy) error {
	ctx, cancel := m.op(ctx)
	defer cancel()
	n, err := m.clients.CountDocuments(ctx, bson.D{{Key: "_id", Value: p.ClientID}})
	if err != nil {
		return wrap("set exchange policy", err)
	}
	if n == 0 {
		return fmt.Errorf("mongomodel: set exchange policy: no client %q", p.ClientID)
	}
	// SubjectIssuers and Scopes are stored even when nil, so that nil
	// (the defaults) and empty (nothing) stay apart.
	d := policyDoc{ID: p.ClientID, Audiences: p.Audiences, SubjectIssuers: p.SubjectIssuers, Impersonation: p.Impersonation,
		Delegation: p.Delegation, ActorSubjects: p.ActorSubjects, Scopes: p.Scopes, RefreshTokens: p.RefreshTokens}
	_, err = m.coll("exchange_policies").ReplaceOne(ctx, bson.D{{Key: "_id", Value: p.ClientID}}, d, options.Replace().SetUpsert(true))
	return wrapIf("set exchange policy", err)
}

// AuthorizeTokenExchange implements [oauth2server.TokenExchangeModel]: the
// decision of the client's rule, set with SetExchangePolicy; a client
// without one is refused.
func (m *Model) AuthorizeTokenExchange(ctx context.Context, req *oauth2server.TokenExchangeRequest) (*oauth2server.TokenExchangeDecision, error) {
	ctx, cancel := m.op(ctx)
	defer cancel()
	var d policyDoc
	found, err := findOne(ctx, m.coll("exchange_policies"), bson.D{{Key: "_id", Value: req.Client.ID}}, &d)
	if err != nil || !found {
		return nil, wrapIf("authorize token exchange", err)
	}
	p := &oauth2server.ExchangePolicy{ClientID: d.ID, Audiences: d.Audiences, SubjectIssuers: d.SubjectIssuers,
		Impersonation: d.Impersonation, Delegation: d.Delegation, ActorSubjects: d.ActorSubjects, Scopes: d.Scopes,
		RefreshTokens: d.RefreshTokens}
	return p.Decide(req)
}
