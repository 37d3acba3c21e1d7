package modelobserve

import (
	"context"

	"github.com/echo-oauth2/oauth2server"
)

// The links of the capabilities of client assertions, assertion grants and
// token exchange.

type clientSecrets struct {
	link
	m oauth2server.ClientSecretModel
}

var _ oauth2server.ClientSecretModel = (*clientSecrets)(nil)

func (l *clientSecrets) GetClientSecret(ctx context.Context, client *oauth2server.Client) ([]byte, error) {
	ctx, t := l.start(ctx, "GetClientSecret")
	v, err := l.m.GetClientSecret(ctx, client)
	l.obs.End(ctx, "GetClientSecret", t, err)
	return v, err
}

type trustedIssuers struct {
	link
	m oauth2server.TrustedIssuerModel
}

var _ oauth2server.TrustedIssuerModel = (*trustedIssuers)(nil)

func (l *trustedIssuers) GetTrustedIssuer(ctx context.Context, issuer string) (*oauth2server.TrustedIssuer, error) {
	ctx, t := l.start(ctx, "GetTrustedIssuer")
	v, err := l.m.GetTrustedIssuer(ctx, issuer)
	l.obs.End(ctx, "GetTrustedIssuer", t, err)
	return v, err
}

func (l *trustedIssuers) GetSubjectUser(ctx context.Context, issuer *oauth2server.TrustedIssuer, subject string) (*oauth2server.User, error) {
	ctx, t := l.start(ctx, "GetSubjectUser")
	v, err := l.m.GetSubjectUser(ctx, issuer, subject)
	l.obs.End(ctx, "GetSubjectUser", t, err)
	return v, err
}

type exchangePolicies struct {
	link
	m oauth2server.TokenExchangeModel
}

var _ oauth2server.TokenExchangeModel = (*exchangePolicies)(nil)

func (l *exchangePolicies) AuthorizeTokenExchange(ctx context.Context, req *oauth2server.TokenExchangeRequest) (*oauth2server.TokenExchangeDecision, error) {
	ctx, t := l.start(ctx, "AuthorizeTokenExchange")
	v, err := l.m.AuthorizeTokenExchange(ctx, req)
	l.obs.End(ctx, "AuthorizeTokenExchange", t, err)
	return v, err
}
