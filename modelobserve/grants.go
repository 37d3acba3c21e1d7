package modelobserve

import (
	"context"

	"github.com/echo-oauth2/oauth2server"
)

type consentLists struct {
	link
	m oauth2server.ConsentListModel
}

var _ oauth2server.ConsentListModel = (*consentLists)(nil)

func (l *consentLists) ListConsents(ctx context.Context, userID, clientID string) ([]*oauth2server.Consent, error) {
	ctx, t := l.start(ctx, "ListConsents")
	v, err := l.m.ListConsents(ctx, userID, clientID)
	l.obs.End(ctx, "ListConsents", t, err)
	return v, err
}

type consentLookups struct {
	link
	m oauth2server.ConsentLookupModel
}

var _ oauth2server.ConsentLookupModel = (*consentLookups)(nil)

func (l *consentLookups) GetConsentByID(ctx context.Context, id string) (*oauth2server.Consent, error) {
	ctx, t := l.start(ctx, "GetConsentByID")
	v, err := l.m.GetConsentByID(ctx, id)
	l.obs.End(ctx, "GetConsentByID", t, err)
	return v, err
}

type grantLists struct {
	link
	m oauth2server.GrantListModel
}

var _ oauth2server.GrantListModel = (*grantLists)(nil)

func (l *grantLists) ListGrants(ctx context.Context, userID, clientID string) ([]oauth2server.GrantInfo, error) {
	ctx, t := l.start(ctx, "ListGrants")
	v, err := l.m.ListGrants(ctx, userID, clientID)
	l.obs.End(ctx, "ListGrants", t, err)
	return v, err
}
