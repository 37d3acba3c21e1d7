package oauth2server

import (
	"net/url"
	"slices"
)

// WellKnownPath is where RFC 8414 §3 metadata is served, inserted between
// the host and the issuer's path.
const WellKnownPath = "/.well-known/oauth-authorization-server"

// Endpoints are the absolute URLs at which a Server's endpoints are
// mounted. An empty URL is an endpoint that is not mounted and is left out
// of the metadata.
type Endpoints struct {
	Authorization string
	Token         string
	Revocation    string
	Introspection string
	JWKS          string
	// DeviceAuthorization is the device authorization endpoint (RFC 8628
	// §4), listed only when the device grant is enabled.
	DeviceAuthorization string
	// PushedAuthorization is the PAR endpoint (RFC 9126 §5), listed only
	// when [Server.PushedAuthorizationEnabled].
	PushedAuthorization string
	// UserInfo and EndSession are the OpenID Connect UserInfo (OIDC Core
	// §5.3) and end session (RP-Initiated Logout §2) endpoints; only with
	// Options.OpenID.
	UserInfo   string
	EndSession string
}

// Metadata is the authorization server metadata document (RFC 8414 §2).
// Members with zero elements are omitted (RFC 8414 §3.2), and the members
// whose RFC defaults would claim something oauth2server does not do
// (grant_types_supported defaults to include implicit, response_modes to
// include fragment) are always written explicitly.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string   `json:"token_endpoint,omitempty"`
	JWKSURI                                    string   `json:"jwks_uri,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	ResponseModesSupported                     []string `json:"response_modes_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint,omitempty"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint,omitempty"`
	PushedAuthorizationRequestEndpoint         string   `json:"pushed_authorization_request_endpoint,omitempty"`
	DPoPSigningAlgValuesSupported              []string `json:"dpop_signing_alg_values_supported,omitempty"`
	RequirePushedAuthorizationRequests         bool     `json:"require_pushed_authorization_requests,omitempty"`

	// The JWS algorithms of client assertions (private_key_jwt,
	// client_secret_jwt) at each endpoint (RFC 8414 §2).
	TokenEndpointAuthSigningAlgValuesSupported         []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	RevocationEndpointAuthSigningAlgValuesSupported    []string `json:"revocation_endpoint_auth_signing_alg_values_supported,omitempty"`
	IntrospectionEndpointAuthSigningAlgValuesSupported []string `json:"introspection_endpoint_auth_signing_alg_values_supported,omitempty"`

	// OpenID Provider members (OIDC Discovery §3), set when the Server is
	// an OpenID Provider.
	UserInfoEndpoint                 string   `json:"userinfo_endpoint,omitempty"`
	EndSessionEndpoint               string   `json:"end_session_endpoint,omitempty"`
	ScopesSupported                  []string `json:"scopes_supported,omitempty"`
	ClaimsSupported                  []string `json:"claims_supported,omitempty"`
	SubjectTypesSupported            []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported,omitempty"`
	ACRValuesSupported               []string `json:"acr_values_supported,omitempty"`
	ClaimsParameterSupported         bool     `json:"claims_parameter_supported,omitempty"`
	RequestParameterSupported        *bool    `json:"request_parameter_supported,omitempty"`
	RequestURIParameterSupported     *bool    `json:"request_uri_parameter_supported,omitempty"`
}

// MetadataURL returns the URL at which metadata for issuer must be served
// (RFC 8414 §3.1): WellKnownPath inserted between host and issuer path.
func MetadataURL(issuer string) (string, error) {
	u, err := url.Parse(issuer)
	if err != nil || issuer == "" {
		return "", errorf("Issuer is required for metadata (RFC 8414 §2)")
	}
	path := u.EscapedPath()
	if path == "/" {
		path = ""
	}
	return u.Scheme + "://" + u.Host + WellKnownPath + path, nil
}

// Metadata returns the metadata document for the given mounted endpoints
// (RFC 8414). It fails when [Options.Issuer] is empty, when an endpoint URL
// is not an absolute https URL (http only on loopback), or when a JWKS URL
// is given while access tokens are opaque.
func (s *Server) Metadata(ep Endpoints) (*Metadata, error) {
	if s.opts.Issuer == "" {
		return nil, errorf("metadata needs Options.Issuer, the issuer identifier (RFC 8414 §2)")
	}
	for name, v := range map[string]string{
		"Authorization": ep.Authorization, "Token": ep.Token, "Revocation": ep.Revocation,
		"Introspection": ep.Introspection, "JWKS": ep.JWKS, "DeviceAuthorization": ep.DeviceAuthorization,
		"UserInfo": ep.UserInfo, "EndSession": ep.EndSession, "PushedAuthorization": ep.PushedAuthorization,
	} {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" ||
			(u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
			return nil, errorf("endpoint %s %q must be an absolute https URL without fragment (RFC 8414 §2)", name, v)
		}
	}
	if ep.JWKS != "" && s.jwt == nil {
		return nil, errorf("a JWKS endpoint is given but the Server signs no JWT (opaque access tokens, no OpenID Connect)")
	}
	if (ep.UserInfo != "" || ep.EndSession != "") && s.oidc == nil {
		return nil, errorf("UserInfo and EndSession endpoints need Options.OpenID")
	}
	if ep.DeviceAuthorization != "" && !s.DeviceAuthorizationEnabled() {
		return nil, errorf("a device authorization endpoint is given but the device grant is not enabled")
	}
	clientAuth := []string{AuthMethodClientSecretBasic, AuthMethodClientSecretPost}
	m := &Metadata{
		Issuer:                s.opts.Issuer,
		AuthorizationEndpoint: ep.Authorization,
		TokenEndpoint:         ep.Token,
		JWKSURI:               ep.JWKS,
		// Metadata lists what the Server supports even when the
		// authorization endpoint is mounted elsewhere: response_types is
		// REQUIRED (RFC 8414 §2).
		ResponseTypesSupported: s.ResponseTypes(),
		GrantTypesSupported:    s.GrantTypes(),
	}
	if s.opts.AllowImplicitGrant {
		// The implicit grant has no grant_type of its own at the token
		// endpoint, but metadata names it (RFC 8414 §2).
		m.GrantTypesSupported = append(m.GrantTypesSupported, GrantImplicit)
	}
	m.DeviceAuthorizationEndpoint = ep.DeviceAuthorization
	if ep.Authorization != "" {
		m.ResponseModesSupported = []string{"query"}
		if s.opts.AllowImplicitGrant {
			m.ResponseModesSupported = append(m.ResponseModesSupported, "fragment")
		}
		// RFC 9207: authorization responses carry iss.
		m.AuthorizationResponseIssParameterSupported = true
	}
	if ep.Token != "" {
		m.TokenEndpointAuthMethodsSupported = slices.Clone(clientAuth)
		for _, g := range s.grantTypes {
			if s.publicOK[g] {
				m.TokenEndpointAuthMethodsSupported = append(m.TokenEndpointAuthMethodsSupported, AuthMethodNone)
				break
			}
		}
	}
	if ep.Revocation != "" {
		m.RevocationEndpoint = ep.Revocation
		// Public clients revoke their tokens by sending client_id (RFC 7009 §2.1).
		m.RevocationEndpointAuthMethodsSupported = append(slices.Clone(clientAuth), AuthMethodNone)
	}
	if ep.Introspection != "" {
		m.IntrospectionEndpoint = ep.Introspection
		m.IntrospectionEndpointAuthMethodsSupported = slices.Clone(clientAuth)
	}
	if s.GrantEnabled(GrantAuthorizationCode) {
		m.CodeChallengeMethodsSupported = []string{PKCEMethodS256}
		if s.opts.AllowPlainPKCE {
			m.CodeChallengeMethodsSupported = append(m.CodeChallengeMethodsSupported, PKCEMethodPlain)
		}
	}
	s.addAssertionMetadata(m)
	if ep.PushedAuthorization != "" {
		if !s.PushedAuthorizationEnabled() {
			return nil, errorf("a PAR endpoint is given but the Server does not serve pushed authorization requests")
		}
		m.PushedAuthorizationRequestEndpoint = ep.PushedAuthorization
		m.RequirePushedAuthorizationRequests = s.opts.PAR.Require
	}
	m.DPoPSigningAlgValuesSupported = s.DPoPAlgorithms() // RFC 9449 §5.1, R-180
	s.addProfileMetadata(m)
	s.addOpenIDMetadata(m, ep)
	return m, nil
}
