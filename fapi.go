package oauth2server

import (
	"net/url"
	"slices"
	"strings"
	"time"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// Profile is a security profile the Server enforces as a whole
// ([Options.Profile]).
type Profile string

// ProfileFAPI2 is the FAPI 2.0 Security Profile (Final, February 2025;
// docs/fapi.md): pushed authorization requests, PKCE with S256,
// confidential clients authenticating with private_key_jwt, DPoP-bound
// access tokens, iss in authorization responses, the code flow only,
// codes living at most 60 seconds, https redirect URIs matched exactly.
const ProfileFAPI2 Profile = "fapi2"

// Bounds of the FAPI 2.0 profile.
const (
	// FAPIMaxCodeLifetime caps AuthorizationCodeLifetime.
	FAPIMaxCodeLifetime = 60 * time.Second
	// FAPIMaxPushedRequestLifetime is what PAR.Lifetime must stay below
	//
	FAPIMaxPushedRequestLifetime = 600 * time.Second
	// fapiAuthMethod is the one client authentication method of the
	// profile without mutual TLS. A client registered for it
	// authenticates only with a client assertion signed with one of its
	// keys (client authentication refuses its secret methods), so the
	// profile checks that the client authenticated and is registered for
	// it.
	fapiAuthMethod = AuthMethodPrivateKeyJWT
	// fapiMinAssertionLeeway and fapiMaxAssertionLeeway bound
	// Assertions.Leeway: a JWT whose iat or nbf is up to 10
	// seconds ahead is accepted, one more than 60 seconds ahead refused.
	fapiMinAssertionLeeway = 10 * time.Second
	fapiMaxAssertionLeeway = 60 * time.Second
)

// fapiAlgorithms are the JWS algorithms of the profile.
var fapiAlgorithms = []string{"PS256", "ES256", "EdDSA"}

var (
	errFAPIClient   = oerrors.ErrInvalidClient.WithDescription("This server requires confidential clients that authenticate with private_key_jwt (FAPI 2.0).")
	errFAPIRedirect = oerrors.ErrInvalidRequest.WithDescription("This server requires https redirect URIs (FAPI 2.0).")
	errFAPIPushURI  = oerrors.ErrInvalidRequest.WithDescription("A pushed authorization request must name its redirect_uri (FAPI 2.0).")
)

// setupProfile checks the options against [Options.Profile] and sets what
// the profile decides; a setting that relaxes a rule of the profile is an
// error that names the rule. It runs before the grants, PAR, DPoP
// and the keys are set up, which then see the profile's values.
func (s *Server) setupProfile() error {
	o := &s.opts
	switch o.Profile {
	case "":
		return nil
	case ProfileFAPI2:
	default:
		return errorf("Profile %q is unknown; the one profile is %q, the FAPI 2.0 Security Profile", o.Profile, ProfileFAPI2)
	}
	refuse := func(rule, format string, args ...any) error {
		return errorf("FAPI 2.0 profile (%s): "+format, append([]any{rule}, args...)...)
	}
	switch {
	case o.Issuer == "":
		return refuse("R-192", "authorization responses carry iss: set Issuer")
	case o.AllowImplicitGrant:
		return refuse("R-191", "only response_type=code: AllowImplicitGrant must be false")
	case o.AllowPasswordGrant || slices.Contains(o.Grants, GrantPassword):
		return refuse("R-187", "the password grant is not allowed: AllowPasswordGrant must be false")
	case o.AllowPlainPKCE:
		return refuse("R-191", "PKCE with S256 only: AllowPlainPKCE must be false")
	case o.AuthorizationCodeLifetime > FAPIMaxCodeLifetime:
		return refuse("R-190", "codes live at most %s: AuthorizationCodeLifetime is %s", FAPIMaxCodeLifetime, o.AuthorizationCodeLifetime)
	case o.PAR.Lifetime >= FAPIMaxPushedRequestLifetime:
		return refuse("R-193", "a request_uri lives less than %s: PAR.Lifetime is %s", FAPIMaxPushedRequestLifetime, o.PAR.Lifetime)
	case o.GeneratedKeyAlgorithm == AlgRS256:
		return refuse("R-194", "JWTs with PS256, ES256 or EdDSA only: GeneratedKeyAlgorithm must not be RS256")
	case o.Assertions.Leeway != 0 && (o.Assertions.Leeway < fapiMinAssertionLeeway || o.Assertions.Leeway > fapiMaxAssertionLeeway):
		return refuse("R-189", "JWTs up to %s ahead are accepted, more than %s ahead refused: Assertions.Leeway is %s",
			fapiMinAssertionLeeway, fapiMaxAssertionLeeway, o.Assertions.Leeway)
	}
	if _, ok := Capability[PushedAuthorizationRequestModel](s.model); !ok {
		return refuse("R-191", "pushed authorization requests are required: the model must implement PushedAuthorizationRequestModel")
	}
	if s.redirects != nil {
		return refuse("R-192", "redirect URIs are matched exactly: the model must not implement RedirectURIValidator")
	}
	if o.DPoP == nil {
		o.DPoP = &DPoPOptions{}
	} else {
		d := *o.DPoP
		o.DPoP = &d
	}
	for _, a := range o.DPoP.Algorithms {
		if !slices.Contains(fapiAlgorithms, a) {
			return refuse("R-194", "DPoP.Algorithms: %q is not PS256, ES256 or EdDSA", a)
		}
	}
	if len(o.DPoP.Algorithms) == 0 {
		o.DPoP.Algorithms = slices.Clone(fapiAlgorithms)
	}
	o.DPoP.Require = true // sender-constrained access tokens
	// a client assertion's aud is the issuer identifier only, as a
	// string.
	o.Assertions.StrictAudience = true
	o.PAR.Require = true
	o.RequirePKCE = true
	// no refresh token rotation for the confidential clients the
	// profile has (public clients are refused).
	o.DisableRefreshTokenRotation = true
	if o.AllowGeneratedKeys && o.GeneratedKeyAlgorithm == "" {
		o.GeneratedKeyAlgorithm = AlgES256
	}
	if u, err := url.Parse(o.Issuer); err == nil && u.Scheme == "https" {
		// TLS everywhere; an http issuer is the loopback
		// development mode validateIssuer allows.
		o.RequireTLS = true
	}
	s.fapi = true
	return nil
}

// checkProfileKeys refuses, under the FAPI 2.0 profile, an RS256 key that
// signs access tokens. It runs once the keys are parsed.
func (s *Server) checkProfileKeys() error {
	if !s.fapi || s.jwt == nil || !s.jwtAccess {
		return nil
	}
	if alg := s.jwt.active.alg; !slices.Contains(fapiAlgorithms, alg) {
		return errorf("FAPI 2.0 profile (R-194): JWTs with PS256, ES256 or EdDSA only: the active signing key is %s", alg)
	}
	return nil
}

// Profile returns the security profile the Server enforces, "" for none.
func (s *Server) Profile() Profile { return s.opts.Profile }

// profileClient refuses, under the FAPI 2.0 profile, a client that is not
// confidential or is not registered for private_key_jwt:
// such a client authenticated with a private_key_jwt assertion.
func (s *Server) profileClient(client *Client, authenticated bool) error {
	if !s.fapi {
		return nil
	}
	if !authenticated || client.TokenEndpointAuthMethod != fapiAuthMethod {
		return errFAPIClient
	}
	return nil
}

// profileRedirect refuses, under the FAPI 2.0 profile, a redirect URI that
// is not https.
func (s *Server) profileRedirect(redirect string) error {
	if s.fapi && !strings.HasPrefix(redirect, "https://") {
		return errFAPIRedirect
	}
	return nil
}

// addProfileMetadata lists, under the FAPI 2.0 profile, private_key_jwt as
// the only client authentication method, with the
// profile's algorithms.
func (s *Server) addProfileMetadata(m *Metadata) {
	if !s.fapi {
		return
	}
	only := func(methods, algs *[]string) {
		if *methods == nil {
			return // the endpoint is not mounted
		}
		*methods = []string{fapiAuthMethod}
		*algs = slices.Clone(fapiAlgorithms)
	}
	only(&m.TokenEndpointAuthMethodsSupported, &m.TokenEndpointAuthSigningAlgValuesSupported)
	only(&m.RevocationEndpointAuthMethodsSupported, &m.RevocationEndpointAuthSigningAlgValuesSupported)
	only(&m.IntrospectionEndpointAuthMethodsSupported, &m.IntrospectionEndpointAuthSigningAlgValuesSupported)
}
