package modelobserve

import (
	"context"
	"time"

	"github.com/echo-oauth2/oauth2server"
)

// capabilities lists every optional interface of oauth2server, in the order
// of their links in a chain. A new capability adds a line here and a link
// type below; TestCapabilitiesComplete fails until it does.
var capabilities = []capability{
	capabilityOf("AccessTokenModel", []string{"GetAccessToken"},
		func(l link, m oauth2server.AccessTokenModel) oauth2server.Model { return &accessTokens{l, m} }),
	capabilityOf("RefreshTokenModel", []string{"GetRefreshToken", "RevokeToken"},
		func(l link, m oauth2server.RefreshTokenModel) oauth2server.Model { return &refreshTokens{l, m} }),
	capabilityOf("GrantModel", []string{"RevokeGrant"},
		func(l link, m oauth2server.GrantModel) oauth2server.Model { return &grants{l, m} }),
	capabilityOf("AuthorizationCodeModel", []string{"SaveAuthorizationCode", "GetAuthorizationCode", "RevokeAuthorizationCode"},
		func(l link, m oauth2server.AuthorizationCodeModel) oauth2server.Model { return &codes{l, m} }),
	capabilityOf("CodeRedemptionModel", []string{"RedeemAuthorizationCode"},
		func(l link, m oauth2server.CodeRedemptionModel) oauth2server.Model { return &codeRedemptions{l, m} }),
	capabilityOf("PasswordModel", []string{"GetUser"},
		func(l link, m oauth2server.PasswordModel) oauth2server.Model { return &passwords{l, m} }),
	capabilityOf("ClientUserModel", []string{"GetUserFromClient"},
		func(l link, m oauth2server.ClientUserModel) oauth2server.Model { return &clientUsers{l, m} }),
	capabilityOf("AccessTokenGenerator", []string{"GenerateAccessToken"},
		func(l link, m oauth2server.AccessTokenGenerator) oauth2server.Model { return &accessGenerator{l, m} }),
	capabilityOf("RefreshTokenGenerator", []string{"GenerateRefreshToken"},
		func(l link, m oauth2server.RefreshTokenGenerator) oauth2server.Model { return &refreshGenerator{l, m} }),
	capabilityOf("AuthorizationCodeGenerator", []string{"GenerateAuthorizationCode"},
		func(l link, m oauth2server.AuthorizationCodeGenerator) oauth2server.Model {
			return &codeGenerator{l, m}
		}),
	capabilityOf("ScopeValidator", []string{"ValidateScope"},
		func(l link, m oauth2server.ScopeValidator) oauth2server.Model { return &scopeValidator{l, m} }),
	capabilityOf("ScopeVerifier", []string{"VerifyScope"},
		func(l link, m oauth2server.ScopeVerifier) oauth2server.Model { return &scopeVerifier{l, m} }),
	capabilityOf("RedirectURIValidator", []string{"ValidateRedirectURI"},
		func(l link, m oauth2server.RedirectURIValidator) oauth2server.Model { return &redirectValidator{l, m} }),
	capabilityOf("ResourceValidator", []string{"ValidateResource"},
		func(l link, m oauth2server.ResourceValidator) oauth2server.Model { return &resourceValidator{l, m} }),
	capabilityOf("ConsentModel", []string{"FindConsent", "SaveConsent", "RevokeConsent"},
		func(l link, m oauth2server.ConsentModel) oauth2server.Model { return &consents{l, m} }),
	capabilityOf("ConsentListModel", []string{"ListConsents"},
		func(l link, m oauth2server.ConsentListModel) oauth2server.Model { return &consentLists{l, m} }),
	capabilityOf("ConsentLookupModel", []string{"GetConsentByID"},
		func(l link, m oauth2server.ConsentLookupModel) oauth2server.Model { return &consentLookups{l, m} }),
	capabilityOf("GrantListModel", []string{"ListGrants"},
		func(l link, m oauth2server.GrantListModel) oauth2server.Model { return &grantLists{l, m} }),
	capabilityOf("CounterModel", []string{"AddCounter", "GetCounter"},
		func(l link, m oauth2server.CounterModel) oauth2server.Model { return &counters{l, m} }),
	capabilityOf("DeviceCodeModel", []string{"SaveDeviceCode", "GetDeviceCodeByUserCode", "SetDeviceDecision",
		"PollDeviceCode", "RaiseDeviceInterval", "ConsumeDeviceCode"},
		func(l link, m oauth2server.DeviceCodeModel) oauth2server.Model { return &devices{l, m} }),
	capabilityOf("RevokedJTIModel", []string{"RevokeJTI", "IsJTIRevoked"},
		func(l link, m oauth2server.RevokedJTIModel) oauth2server.Model { return &jtis{l, m} }),
	capabilityOf("UserClaimsModel", []string{"GetUserClaims"},
		func(l link, m oauth2server.UserClaimsModel) oauth2server.Model { return &userClaims{l, m} }),
	capabilityOf("ClientSecretModel", []string{"GetClientSecret"},
		func(l link, m oauth2server.ClientSecretModel) oauth2server.Model { return &clientSecrets{l, m} }),
	capabilityOf("TrustedIssuerModel", []string{"GetTrustedIssuer", "GetSubjectUser"},
		func(l link, m oauth2server.TrustedIssuerModel) oauth2server.Model { return &trustedIssuers{l, m} }),
	capabilityOf("TokenExchangeModel", []string{"AuthorizeTokenExchange"},
		func(l link, m oauth2server.TokenExchangeModel) oauth2server.Model { return &exchangePolicies{l, m} }),
	capabilityOf("PushedAuthorizationRequestModel", []string{"SavePushedAuthorizationRequest",
		"GetPushedAuthorizationRequest", "ConsumePushedAuthorizationRequest"},
		func(l link, m oauth2server.PushedAuthorizationRequestModel) oauth2server.Model { return &pushed{l, m} }),
}

// Each link below implements Model and Unwrap (from link) and one
// capability, by calling the wrapped model's implementation of it between
// the observer's Start and End.

type accessTokens struct {
	link
	m oauth2server.AccessTokenModel
}

var _ oauth2server.AccessTokenModel = (*accessTokens)(nil)

func (l *accessTokens) GetAccessToken(ctx context.Context, accessToken string) (*oauth2server.Token, error) {
	ctx, t := l.start(ctx, "GetAccessToken")
	v, err := l.m.GetAccessToken(ctx, accessToken)
	l.obs.End(ctx, "GetAccessToken", t, err)
	return v, err
}

type refreshTokens struct {
	link
	m oauth2server.RefreshTokenModel
}

var _ oauth2server.RefreshTokenModel = (*refreshTokens)(nil)

func (l *refreshTokens) GetRefreshToken(ctx context.Context, refreshToken string) (*oauth2server.Token, error) {
	ctx, t := l.start(ctx, "GetRefreshToken")
	v, err := l.m.GetRefreshToken(ctx, refreshToken)
	l.obs.End(ctx, "GetRefreshToken", t, err)
	return v, err
}

func (l *refreshTokens) RevokeToken(ctx context.Context, token *oauth2server.Token) (bool, error) {
	ctx, t := l.start(ctx, "RevokeToken")
	v, err := l.m.RevokeToken(ctx, token)
	l.obs.End(ctx, "RevokeToken", t, err)
	return v, err
}

type grants struct {
	link
	m oauth2server.GrantModel
}

var _ oauth2server.GrantModel = (*grants)(nil)

func (l *grants) RevokeGrant(ctx context.Context, grantID string) error {
	ctx, t := l.start(ctx, "RevokeGrant")
	err := l.m.RevokeGrant(ctx, grantID)
	l.obs.End(ctx, "RevokeGrant", t, err)
	return err
}

type codes struct {
	link
	m oauth2server.AuthorizationCodeModel
}

var _ oauth2server.AuthorizationCodeModel = (*codes)(nil)

func (l *codes) SaveAuthorizationCode(ctx context.Context, code *oauth2server.AuthorizationCode, client *oauth2server.Client, user *oauth2server.User) error {
	ctx, t := l.start(ctx, "SaveAuthorizationCode")
	err := l.m.SaveAuthorizationCode(ctx, code, client, user)
	l.obs.End(ctx, "SaveAuthorizationCode", t, err)
	return err
}

func (l *codes) GetAuthorizationCode(ctx context.Context, code string) (*oauth2server.AuthorizationCode, error) {
	ctx, t := l.start(ctx, "GetAuthorizationCode")
	v, err := l.m.GetAuthorizationCode(ctx, code)
	l.obs.End(ctx, "GetAuthorizationCode", t, err)
	return v, err
}

func (l *codes) RevokeAuthorizationCode(ctx context.Context, code *oauth2server.AuthorizationCode) (bool, error) {
	ctx, t := l.start(ctx, "RevokeAuthorizationCode")
	v, err := l.m.RevokeAuthorizationCode(ctx, code)
	l.obs.End(ctx, "RevokeAuthorizationCode", t, err)
	return v, err
}

type codeRedemptions struct {
	link
	m oauth2server.CodeRedemptionModel
}

var _ oauth2server.CodeRedemptionModel = (*codeRedemptions)(nil)

func (l *codeRedemptions) RedeemAuthorizationCode(ctx context.Context, code *oauth2server.AuthorizationCode, token *oauth2server.Token, client *oauth2server.Client, user *oauth2server.User) (bool, error) {
	ctx, t := l.start(ctx, "RedeemAuthorizationCode")
	v, err := l.m.RedeemAuthorizationCode(ctx, code, token, client, user)
	l.obs.End(ctx, "RedeemAuthorizationCode", t, err)
	return v, err
}

type passwords struct {
	link
	m oauth2server.PasswordModel
}

var _ oauth2server.PasswordModel = (*passwords)(nil)

func (l *passwords) GetUser(ctx context.Context, username, password string) (*oauth2server.User, error) {
	ctx, t := l.start(ctx, "GetUser")
	v, err := l.m.GetUser(ctx, username, password)
	l.obs.End(ctx, "GetUser", t, err)
	return v, err
}

type clientUsers struct {
	link
	m oauth2server.ClientUserModel
}

var _ oauth2server.ClientUserModel = (*clientUsers)(nil)

func (l *clientUsers) GetUserFromClient(ctx context.Context, client *oauth2server.Client) (*oauth2server.User, error) {
	ctx, t := l.start(ctx, "GetUserFromClient")
	v, err := l.m.GetUserFromClient(ctx, client)
	l.obs.End(ctx, "GetUserFromClient", t, err)
	return v, err
}

type accessGenerator struct {
	link
	m oauth2server.AccessTokenGenerator
}

var _ oauth2server.AccessTokenGenerator = (*accessGenerator)(nil)

func (l *accessGenerator) GenerateAccessToken(ctx context.Context, client *oauth2server.Client, user *oauth2server.User, scope []string) (string, error) {
	ctx, t := l.start(ctx, "GenerateAccessToken")
	v, err := l.m.GenerateAccessToken(ctx, client, user, scope)
	l.obs.End(ctx, "GenerateAccessToken", t, err)
	return v, err
}

type refreshGenerator struct {
	link
	m oauth2server.RefreshTokenGenerator
}

var _ oauth2server.RefreshTokenGenerator = (*refreshGenerator)(nil)

func (l *refreshGenerator) GenerateRefreshToken(ctx context.Context, client *oauth2server.Client, user *oauth2server.User, scope []string) (string, error) {
	ctx, t := l.start(ctx, "GenerateRefreshToken")
	v, err := l.m.GenerateRefreshToken(ctx, client, user, scope)
	l.obs.End(ctx, "GenerateRefreshToken", t, err)
	return v, err
}

type codeGenerator struct {
	link
	m oauth2server.AuthorizationCodeGenerator
}

var _ oauth2server.AuthorizationCodeGenerator = (*codeGenerator)(nil)

func (l *codeGenerator) GenerateAuthorizationCode(ctx context.Context, client *oauth2server.Client, user *oauth2server.User, scope []string) (string, error) {
	ctx, t := l.start(ctx, "GenerateAuthorizationCode")
	v, err := l.m.GenerateAuthorizationCode(ctx, client, user, scope)
	l.obs.End(ctx, "GenerateAuthorizationCode", t, err)
	return v, err
}

type scopeValidator struct {
	link
	m oauth2server.ScopeValidator
}

var _ oauth2server.ScopeValidator = (*scopeValidator)(nil)

func (l *scopeValidator) ValidateScope(ctx context.Context, client *oauth2server.Client, user *oauth2server.User, scope []string) ([]string, error) {
	ctx, t := l.start(ctx, "ValidateScope")
	v, err := l.m.ValidateScope(ctx, client, user, scope)
	l.obs.End(ctx, "ValidateScope", t, err)
	return v, err
}

type scopeVerifier struct {
	link
	m oauth2server.ScopeVerifier
}

var _ oauth2server.ScopeVerifier = (*scopeVerifier)(nil)

func (l *scopeVerifier) VerifyScope(ctx context.Context, token *oauth2server.Token, required []string) (bool, error) {
	ctx, t := l.start(ctx, "VerifyScope")
	v, err := l.m.VerifyScope(ctx, token, required)
	l.obs.End(ctx, "VerifyScope", t, err)
	return v, err
}

type redirectValidator struct {
	link
	m oauth2server.RedirectURIValidator
}

var _ oauth2server.RedirectURIValidator = (*redirectValidator)(nil)

func (l *redirectValidator) ValidateRedirectURI(ctx context.Context, redirectURI string, client *oauth2server.Client) (bool, error) {
	ctx, t := l.start(ctx, "ValidateRedirectURI")
	v, err := l.m.ValidateRedirectURI(ctx, redirectURI, client)
	l.obs.End(ctx, "ValidateRedirectURI", t, err)
	return v, err
}

type consents struct {
	link
	m oauth2server.ConsentModel
}

var _ oauth2server.ConsentModel = (*consents)(nil)

func (l *consents) FindConsent(ctx context.Context, clientID, userID string) (*oauth2server.Consent, error) {
	ctx, t := l.start(ctx, "FindConsent")
	v, err := l.m.FindConsent(ctx, clientID, userID)
	l.obs.End(ctx, "FindConsent", t, err)
	return v, err
}

func (l *consents) SaveConsent(ctx context.Context, consent *oauth2server.Consent) error {
	ctx, t := l.start(ctx, "SaveConsent")
	err := l.m.SaveConsent(ctx, consent)
	l.obs.End(ctx, "SaveConsent", t, err)
	return err
}

func (l *consents) RevokeConsent(ctx context.Context, clientID, userID string) error {
	ctx, t := l.start(ctx, "RevokeConsent")
	err := l.m.RevokeConsent(ctx, clientID, userID)
	l.obs.End(ctx, "RevokeConsent", t, err)
	return err
}

type counters struct {
	link
	m oauth2server.CounterModel
}

var _ oauth2server.CounterModel = (*counters)(nil)

func (l *counters) AddCounter(ctx context.Context, key string, delta int64, window time.Duration, now time.Time) (oauth2server.Counter, error) {
	ctx, t := l.start(ctx, "AddCounter")
	v, err := l.m.AddCounter(ctx, key, delta, window, now)
	l.obs.End(ctx, "AddCounter", t, err)
	return v, err
}

func (l *counters) GetCounter(ctx context.Context, key string, now time.Time) (oauth2server.Counter, error) {
	ctx, t := l.start(ctx, "GetCounter")
	v, err := l.m.GetCounter(ctx, key, now)
	l.obs.End(ctx, "GetCounter", t, err)
	return v, err
}

type devices struct {
	link
	m oauth2server.DeviceCodeModel
}

var _ oauth2server.DeviceCodeModel = (*devices)(nil)

func (l *devices) SaveDeviceCode(ctx context.Context, code *oauth2server.DeviceCode) error {
	ctx, t := l.start(ctx, "SaveDeviceCode")
	err := l.m.SaveDeviceCode(ctx, code)
	l.obs.End(ctx, "SaveDeviceCode", t, err)
	return err
}

func (l *devices) GetDeviceCodeByUserCode(ctx context.Context, userCode string) (*oauth2server.DeviceCode, error) {
	ctx, t := l.start(ctx, "GetDeviceCodeByUserCode")
	v, err := l.m.GetDeviceCodeByUserCode(ctx, userCode)
	l.obs.End(ctx, "GetDeviceCodeByUserCode", t, err)
	return v, err
}

func (l *devices) SetDeviceDecision(ctx context.Context, userCode string, d *oauth2server.DeviceDecision) (bool, error) {
	ctx, t := l.start(ctx, "SetDeviceDecision")
	v, err := l.m.SetDeviceDecision(ctx, userCode, d)
	l.obs.End(ctx, "SetDeviceDecision", t, err)
	return v, err
}

func (l *devices) PollDeviceCode(ctx context.Context, deviceCode, clientID string, now time.Time) (*oauth2server.DeviceCode, error) {
	ctx, t := l.start(ctx, "PollDeviceCode")
	v, err := l.m.PollDeviceCode(ctx, deviceCode, clientID, now)
	l.obs.End(ctx, "PollDeviceCode", t, err)
	return v, err
}

func (l *devices) RaiseDeviceInterval(ctx context.Context, deviceCode string, interval time.Duration) error {
	ctx, t := l.start(ctx, "RaiseDeviceInterval")
	err := l.m.RaiseDeviceInterval(ctx, deviceCode, interval)
	l.obs.End(ctx, "RaiseDeviceInterval", t, err)
	return err
}

func (l *devices) ConsumeDeviceCode(ctx context.Context, deviceCode string) (bool, error) {
	ctx, t := l.start(ctx, "ConsumeDeviceCode")
	v, err := l.m.ConsumeDeviceCode(ctx, deviceCode)
	l.obs.End(ctx, "ConsumeDeviceCode", t, err)
	return v, err
}

type jtis struct {
	link
	m oauth2server.RevokedJTIModel
}

var _ oauth2server.RevokedJTIModel = (*jtis)(nil)

func (l *jtis) RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error {
	ctx, t := l.start(ctx, "RevokeJTI")
	err := l.m.RevokeJTI(ctx, jti, expiresAt)
	l.obs.End(ctx, "RevokeJTI", t, err)
	return err
}

func (l *jtis) IsJTIRevoked(ctx context.Context, jti string) (bool, error) {
	ctx, t := l.start(ctx, "IsJTIRevoked")
	v, err := l.m.IsJTIRevoked(ctx, jti)
	l.obs.End(ctx, "IsJTIRevoked", t, err)
	return v, err
}

type userClaims struct {
	link
	m oauth2server.UserClaimsModel
}

var _ oauth2server.UserClaimsModel = (*userClaims)(nil)

func (l *userClaims) GetUserClaims(ctx context.Context, userID string) (map[string]any, error) {
	ctx, t := l.start(ctx, "GetUserClaims")
	v, err := l.m.GetUserClaims(ctx, userID)
	l.obs.End(ctx, "GetUserClaims", t, err)
	return v, err
}

type pushed struct {
	link
	m oauth2server.PushedAuthorizationRequestModel
}

var _ oauth2server.PushedAuthorizationRequestModel = (*pushed)(nil)

func (l *pushed) SavePushedAuthorizationRequest(ctx context.Context, req *oauth2server.PushedAuthorizationRequest) error {
	ctx, t := l.start(ctx, "SavePushedAuthorizationRequest")
	err := l.m.SavePushedAuthorizationRequest(ctx, req)
	l.obs.End(ctx, "SavePushedAuthorizationRequest", t, err)
	return err
}

func (l *pushed) GetPushedAuthorizationRequest(ctx context.Context, requestURI string) (*oauth2server.PushedAuthorizationRequest, error) {
	ctx, t := l.start(ctx, "GetPushedAuthorizationRequest")
	v, err := l.m.GetPushedAuthorizationRequest(ctx, requestURI)
	l.obs.End(ctx, "GetPushedAuthorizationRequest", t, err)
	return v, err
}

func (l *pushed) ConsumePushedAuthorizationRequest(ctx context.Context, requestURI string) (bool, error) {
	ctx, t := l.start(ctx, "ConsumePushedAuthorizationRequest")
	v, err := l.m.ConsumePushedAuthorizationRequest(ctx, requestURI)
	l.obs.End(ctx, "ConsumePushedAuthorizationRequest", t, err)
	return v, err
}

type resourceValidator struct {
	link
	m oauth2server.ResourceValidator
}

var _ oauth2server.ResourceValidator = (*resourceValidator)(nil)

func (l *resourceValidator) ValidateResource(ctx context.Context, client *oauth2server.Client, resource string) (bool, error) {
	ctx, t := l.start(ctx, "ValidateResource")
	v, err := l.m.ValidateResource(ctx, client, resource)
	l.obs.End(ctx, "ValidateResource", t, err)
	return v, err
}
