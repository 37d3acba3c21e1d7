package oauth2server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/form"
)

// OpenIDWellKnownPath is the path of the OpenID Provider configuration
// document under the issuer (OIDC Discovery §4).
const OpenIDWellKnownPath = "/.well-known/openid-configuration"

var (
	errUserInfoScope = oerrors.ErrInsufficientScope.WithDescription("The access token was not issued for an OpenID Connect request (openid scope).")
	errUserGone      = oerrors.ErrInvalidToken.WithDescription("The user of the access token no longer exists.")
)

// UserInfo returns the UserInfo answer for a verified access token (OIDC
// Core §5.3): sub (the same as in the ID tokens of the user and client)
// and the claims the token's scope and its claims request release (R-133,
// R-134), never more. A token without openid or without a user is
// insufficient_scope (403); a token whose user or client no longer exists
// is invalid_token. The handlers of packages handlers and nethttp verify
// the bearer token (GET and POST, RFC 6750) and call this.
func (s *Server) UserInfo(ctx context.Context, tok *Token) (map[string]any, error) {
	if s.oidc == nil {
		return nil, oerrors.ServerError(errorf("UserInfo needs Options.OpenID"))
	}
	if tok == nil || tok.UserID == "" || !slices.Contains(tok.Scope, ScopeOpenID) {
		return nil, errUserInfoScope
	}
	client, err := s.model.GetClient(ctx, tok.ClientID)
	if err != nil {
		return nil, storeError("GetClient", err)
	}
	if client == nil {
		return nil, errTokenUnknown
	}
	sub, err := s.Subject(client, tok.UserID)
	if err != nil {
		return nil, oerrors.ServerError(err)
	}
	var requested map[string]*ClaimRequest
	if tok.OpenID != nil && tok.OpenID.Claims != "" {
		if cr, err := ParseClaimsRequest(tok.OpenID.Claims); err == nil {
			requested = cr.UserInfo
		}
	}
	claims, err := s.releasedClaims(ctx, tok.UserID, tok.Scope, requested, tok.Scope)
	if err != nil {
		return nil, err
	}
	if claims == nil {
		return nil, errUserGone
	}
	claims["sub"] = sub
	return claims, nil
}

// OpenIDConfigurationURL returns where the OpenID Provider configuration
// of issuer is served: the issuer, without a trailing slash, followed by
// /.well-known/openid-configuration (OIDC Discovery §4.1, R-136).
func OpenIDConfigurationURL(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || issuer == "" || u.Host == "" {
		return "", errorf("Issuer is required for discovery (OIDC Discovery §4)")
	}
	return strings.TrimSuffix(issuer, "/") + OpenIDWellKnownPath, nil
}

// OpenIDConfiguration returns the OpenID Provider metadata (OIDC Discovery
// §3): [Server.Metadata] of the same endpoints, so that the two documents
// never disagree, which lists the OpenID Connect members whenever
// the Server is an OpenID Provider. Discovery requires the authorization,
// token and JWKS endpoints.
func (s *Server) OpenIDConfiguration(ep Endpoints) (*Metadata, error) {
	if s.oidc == nil {
		return nil, errorf("OpenID Provider metadata needs Options.OpenID")
	}
	if ep.Authorization == "" || ep.Token == "" || ep.JWKS == "" {
		return nil, errorf("OpenID Provider metadata needs the Authorization, Token and JWKS endpoints (OIDC Discovery §3)")
	}
	return s.Metadata(ep)
}

// addOpenIDMetadata adds the OpenID Connect members to m.
func (s *Server) addOpenIDMetadata(m *Metadata, ep Endpoints) {
	if s.oidc == nil {
		return
	}
	o := s.opts.OpenID
	m.UserInfoEndpoint = ep.UserInfo
	m.EndSessionEndpoint = ep.EndSession
	m.ScopesSupported = append([]string{ScopeOpenID}, standardScopes...)
	if s.GrantEnabled(GrantRefreshToken) {
		m.ScopesSupported = append(m.ScopesSupported, ScopeOfflineAccess)
	}
	for _, sc := range o.Scopes {
		if !slices.Contains(m.ScopesSupported, sc) {
			m.ScopesSupported = append(m.ScopesSupported, sc)
		}
	}
	m.ClaimsSupported = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash"}
	for _, sc := range standardScopes {
		m.ClaimsSupported = append(m.ClaimsSupported, ScopeClaims[sc]...)
	}
	m.SubjectTypesSupported = []string{SubjectPublic}
	if o.PairwiseSubjectKey != nil {
		m.SubjectTypesSupported = append(m.SubjectTypesSupported, SubjectPairwise)
	}
	m.IDTokenSigningAlgValuesSupported = nil
	if !s.fapi {
		m.IDTokenSigningAlgValuesSupported = []string{AlgRS256} // OIDC Discovery §3: always
	}
	for _, alg := range []string{AlgES256, AlgEdDSA} {
		if s.oidc.idKeys[alg] != nil {
			m.IDTokenSigningAlgValuesSupported = append(m.IDTokenSigningAlgValuesSupported, alg)
		}
	}
	m.ACRValuesSupported = slices.Clone(o.ACRValues)
	m.ClaimsParameterSupported = true
	f := false
	m.RequestParameterSupported = &f
	m.RequestURIParameterSupported = &f
	if ep.Authorization != "" && !slices.Contains(m.ResponseModesSupported, ResponseModeFormPost) {
		m.ResponseModesSupported = append(m.ResponseModesSupported, ResponseModeFormPost)
	}
}

// EndSessionRequest is a validated RP-initiated logout request
// (OpenID Connect RP-Initiated Logout 1.0 §2).
type EndSessionRequest struct {
	// Client is the relying party, from client_id or the hint's audience;
	// nil when neither named one.
	Client *Client
	// Subject is the sub of a valid id_token_hint; "" without one. The
	// application logs out the session of this user; when its session is
	// another user's, it must ask before logging anyone out.
	Subject string
	// HintValid is set when a valid id_token_hint (expired or not) came
	// with the request. Without one the user must confirm the logout
	// (logout requests are a denial-of-service vector, R-138), and no
	// redirect is made.
	HintValid bool
	// PostLogoutRedirectURI is where to send the user after logout, exactly
	// one the client registered; "" to show a logged-out page instead.
	PostLogoutRedirectURI string
	// State is echoed to PostLogoutRedirectURI.
	State string
	// LogoutHint and UILocales are passed on to the pages.
	LogoutHint string
	UILocales  []string
}

// RedirectURL returns where to send the user after logout:
// PostLogoutRedirectURI with state, or "" when there is none.
func (e *EndSessionRequest) RedirectURL() string {
	if e.PostLogoutRedirectURI == "" {
		return ""
	}
	v := url.Values{}
	if e.State != "" {
		v.Set("state", e.State)
		return appendParams(e.PostLogoutRedirectURI, v, false)
	}
	return e.PostLogoutRedirectURI
}

var (
	errEndSessionMethod = oerrors.ErrInvalidRequest.WithStatus(http.StatusMethodNotAllowed).
				WithDescription("The end session endpoint accepts GET and POST only.")
	errEndSessionHint = oerrors.ErrInvalidRequest.WithDescription("The id_token_hint is not an ID token of this provider.")
	errEndSessionAud  = oerrors.ErrInvalidRequest.WithDescription("The client_id is not the audience of the id_token_hint.")
	errEndSessionURI  = oerrors.ErrInvalidRequest.WithDescription("The post_logout_redirect_uri is not registered for the client.")
	errEndSessionNoRP = oerrors.ErrInvalidRequest.WithDescription("A post_logout_redirect_uri needs a valid id_token_hint.")
)

// ValidateEndSession validates a logout request at the end session
// endpoint (RP-Initiated Logout §2, §3): GET with a query or POST with a
// form body. Every error is for a page, never redirected.
func (s *Server) ValidateEndSession(r *http.Request) (*EndSessionRequest, error) {
	if err := s.CheckTLS(r); err != nil {
		return nil, err
	}
	var p form.Params
	var err error
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		p, err = form.Query(r)
	case http.MethodPost:
		p, err = form.ParseBody(nil, r, s.opts.MaxBodyBytes)
	default:
		return nil, errEndSessionMethod
	}
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	e := &EndSessionRequest{State: p["state"], LogoutHint: p["logout_hint"], UILocales: strings.Fields(p["ui_locales"])}
	clientID := p["client_id"]
	if hint := p["id_token_hint"]; hint != "" {
		claims, err := s.parseIDToken(hint)
		if err != nil {
			return nil, errEndSessionHint
		}
		switch {
		case clientID != "" && !slices.Contains(claims.Audience, clientID):
			return nil, errEndSessionAud
		case clientID == "" && len(claims.Audience) == 1:
			clientID = claims.Audience[0]
		}
		e.Subject, e.HintValid = claims.Subject, true
	}
	if clientID != "" {
		c, err := s.model.GetClient(ctx, clientID)
		if err != nil {
			return nil, storeError("GetClient", err)
		}
		if c == nil {
			return nil, errUnknownClient
		}
		e.Client = c
	}
	if uri := p["post_logout_redirect_uri"]; uri != "" {
		switch {
		case !e.HintValid || e.Client == nil:
			return nil, errEndSessionNoRP
		case !slices.Contains(e.Client.PostLogoutRedirectURIs, uri):
			return nil, errEndSessionURI
		}
		e.PostLogoutRedirectURI = uri
	}
	return e, nil
}
