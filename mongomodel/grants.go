package mongomodel

import (
	"context"
	stderrors "errors"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
)

var (
	_ oauth2server.GrantListModel   = (*Model)(nil)
	_ oauth2server.ConsentListModel = (*Model)(nil)
)

// byUserAndClient is the filter of the items of userID with clientID, ""
// matching every user or client. The indexes on {userId, clientId} and
// {clientId} of tokens and codes serve it (EnsureIndexes).
func byUserAndClient(userField, clientField, userID, clientID string) bson.D {
	var f bson.D
	if userID != "" {
		f = append(f, bson.E{Key: userField, Value: userID})
	}
	if clientID != "" {
		f = append(f, bson.E{Key: clientField, Value: clientID})
	}
	return f
}

// grantItem is what ListGrants reads of a token or code.
type grantItem struct {
	ID               string     `bson:"_id"`
	ClientID         string     `bson:"clientId"`
	UserID           string     `bson:"userId"`
	GrantID          string     `bson:"grant"`
	Scope            []string   `bson:"scope"`
	RefreshScope     []string   `bson:"refreshScope"`
	IssuedAt         time.Time  `bson:"issuedAt"`
	Revoked          bool       `bson:"revoked"`
	AccessExpiresAt  time.Time  `bson:"accessExpiresAt"`
	Refresh          string     `bson:"refresh"`
	RefreshExpiresAt *time.Time `bson:"refreshExpiresAt"`
	ExpiresAt        time.Time  `bson:"expiresAt"`
}

// ListGrants implements [oauth2server.GrantListModel]: one query of the
// tokens and one of the codes of the user with the client, through their
// indexes; the families are put together here. Family documents, claims
// of tokens and stubs carry no client and are not found. The claims of
// codes do (see RedeemAuthorizationCode): the query of the tokens finds
// them, and a code with a claim counts as spent, as a revoked one does.
func (m *Model) ListGrants(ctx context.Context, userID, clientID string) ([]oauth2server.GrantInfo, error) {
	if userID == "" && clientID == "" {
		return nil, stderrors.New("mongomodel: list grants: user id or client id is required")
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	now := m.opts.Now()
	found := map[string]*grantFamily{}
	var order []string
	add := func(it *grantItem, live bool) {
		if it.GrantID == "" {
			return
		}
		f := found[it.GrantID]
		if f == nil {
			f = &grantFamily{info: oauth2server.GrantInfo{GrantID: it.GrantID, ClientID: it.ClientID, UserID: it.UserID}}
			found[it.GrantID] = f
			order = append(order, it.GrantID)
		}
		f.add(it, live)
	}
	proj := options.Find().SetProjection(bson.D{
		{Key: "clientId", Value: 1}, {Key: "userId", Value: 1}, {Key: "grant", Value: 1},
		{Key: "scope", Value: 1}, {Key: "refreshScope", Value: 1}, {Key: "issuedAt", Value: 1},
		{Key: "revoked", Value: 1}, {Key: "accessExpiresAt", Value: 1}, {Key: "refresh", Value: 1},
		{Key: "refreshExpiresAt", Value: 1}, {Key: "expiresAt", Value: 1},
	})
	filter := byUserAndClient("userId", "clientId", userID, clientID)
	tokens, err := findAll[grantItem](ctx, m.tokens, filter, proj)
	if err != nil {
		return nil, wrap("list grants: tokens", err)
	}
	codes, err := findAll[grantItem](ctx, m.codes, filter, proj)
	if err != nil {
		return nil, wrap("list grants: codes", err)
	}
	spent := map[string]bool{}
	for i := range tokens {
		if code, ok := strings.CutPrefix(tokens[i].ID, codeClaimPrefix); ok {
			spent[code] = true
			continue
		}
		add(&tokens[i], tokenLive(&tokens[i], now))
	}
	for i := range codes {
		c := &codes[i]
		add(c, !c.Revoked && !spent[c.ID] && !now.After(c.ExpiresAt))
	}
	var out []oauth2server.GrantInfo
	for _, id := range order {
		if f := found[id]; f.live {
			out = append(out, f.info)
		}
	}
	return out, nil
}

// tokenLive reports whether a token is live at now: not revoked, and its
// access token or its refresh token not expired.
func tokenLive(it *grantItem, now time.Time) bool {
	if it.Revoked {
		return false
	}
	if now.Before(it.AccessExpiresAt) {
		return true
	}
	hasRefresh := it.Refresh != "" && !strings.HasPrefix(it.Refresh, noRefresh)
	return hasRefresh && (it.RefreshExpiresAt == nil || now.Before(*it.RefreshExpiresAt))
}

// findAll decodes every document of coll matching filter.
func findAll[T any](ctx context.Context, coll *mongo.Collection, filter bson.D, opts ...options.Lister[options.FindOptions]) ([]T, error) {
	cur, err := coll.Find(ctx, filter, opts...)
	if err != nil {
		return nil, err
	}
	var out []T
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// grantFamily gathers the GrantInfo of one family.
type grantFamily struct {
	info oauth2server.GrantInfo
	live bool
}

func (f *grantFamily) add(it *grantItem, live bool) {
	if f.info.FirstIssuedAt.IsZero() || it.IssuedAt.Before(f.info.FirstIssuedAt) {
		f.info.FirstIssuedAt = it.IssuedAt
	}
	if it.IssuedAt.After(f.info.LastIssuedAt) {
		f.info.LastIssuedAt = it.IssuedAt
	}
	if !live {
		return
	}
	f.live = true
	for _, sc := range slices.Concat(it.Scope, it.RefreshScope) {
		if !slices.Contains(f.info.Scope, sc) {
			f.info.Scope = append(f.info.Scope, sc)
		}
	}
}

// ListConsents implements [oauth2server.ConsentListModel] with one query
// through the indexes on {user, client} and {client} of consents. Expired
// consents are left out.
func (m *Model) ListConsents(ctx context.Context, userID, clientID string) ([]*oauth2server.Consent, error) {
	if userID == "" && clientID == "" {
		return nil, stderrors.New("mongomodel: list consents: user id or client id is required")
	}
	ctx, cancel := m.op(ctx)
	defer cancel()
	docs, err := findAll[consentDoc](ctx, m.consents, byUserAndClient("user", "client", userID, clientID))
	if err != nil {
		return nil, wrap("list consents", err)
	}
	now := m.opts.Now()
	out := make([]*oauth2server.Consent, 0, len(docs))
	for i := range docs {
		if c := docs[i].consent(now); c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}
