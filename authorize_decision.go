package oauth2server

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// Decision is the resource owner's answer to an authorization request.
type Decision struct {
	// Approved is true when the user allowed the request.
	Approved bool
	// Scope is the scope the user granted. Nil grants everything
	// ValidateScope allows for the request; otherwise it must lie within
	// that, and an empty, non-nil Scope is a denial when anything was
	// requested.
	Scope []string
	// Authentication is how the user logged in, for the ID tokens of an
	// OpenID Connect request (auth_time, acr, amr). Ignored otherwise.
	Authentication Authentication
}

// Authorize completes a request returned by [Server.ValidateAuthorizeRequest]
// with the decision of the authenticated user (nil or without an ID is a
// programming error, answered as server_error), and returns the URL to
// redirect the user agent to (with 303 after a POST, RFC 9700 §4.12).
//
// A denial redirects with access_denied. An approval re-runs ValidateScope,
// now with the user, and grants d.Scope within it. For response_type=code it
// saves a code (lifetime [Options.AuthorizationCodeLifetime], a new grant
// family, the PKCE challenge) through SaveAuthorizationCode and returns the
// redirect URI with code, state and iss (RFC 9207). For response_type=token
// it saves an access token, never a refresh token, and returns it in the
// fragment (RFC 6749 §4.2.2). A pushed request's request_uri is consumed
// first, approved or denied: of two decisions on one pushed request the
// second is invalid_request_uri. Errors are as for
// ValidateAuthorizeRequest.
func (s *Server) Authorize(ctx context.Context, ar *AuthorizeRequest, user *User, d Decision) (string, error) {
	if ar == nil || !ar.validated {
		return "", errorf("Authorize needs a request returned by ValidateAuthorizeRequest")
	}
	if user == nil || user.ID == "" {
		// Without an ID the code or token would name no resource owner
		// and pass for the client's own (sub = client_id).
		return "", errorf("Authorize needs the authenticated user")
	}
	if err := s.consumePushed(ctx, ar); err != nil {
		// the decision spends a pushed request; a second decision
		// on it, on any instance, is refused.
		return "", ar.fail(err)
	}
	if !d.Approved {
		if s.recording() {
			s.Record(ctx, Event{Kind: EventConsentDenied, ClientID: ar.Client.ID, UserID: user.ID, Scope: ar.Scope})
		}
		return "", ar.fail(errDenied)
	}
	allowed, err := s.validateScope(ctx, ar.Client, user, ar.RequestedScope)
	if err != nil {
		return "", ar.fail(err)
	}
	granted := allowed
	if d.Scope != nil {
		if granted, err = s.parseScope(FormatScope(d.Scope)); err != nil || !ScopeCovers(allowed, granted) {
			return "", ar.fail(errGrantedScope)
		}
		if len(granted) == 0 && len(allowed) > 0 {
			if s.recording() {
				s.Record(ctx, Event{Kind: EventConsentDenied, ClientID: ar.Client.ID, UserID: user.ID, Scope: ar.Scope})
			}
			return "", ar.fail(errDenied)
		}
	}
	v := url.Values{}
	if ar.State != "" {
		v.Set("state", ar.State)
	}
	if ar.issuer != "" {
		v.Set("iss", ar.issuer)
	}
	switch ar.ResponseType {
	case ResponseTypeCode:
		sess, err := s.openIDSession(ar, granted, d.Authentication)
		if err != nil {
			return "", ar.fail(err)
		}
		code, err := s.issueCode(ctx, ar, user, granted, sess)
		if err != nil {
			return "", ar.fail(err)
		}
		v.Set("code", code)
	case ResponseTypeToken:
		tok, err := s.issueToken(ctx, ar.Client, &issue{user: user, scope: granted, resources: ar.Resources})
		if err != nil {
			return "", ar.fail(err)
		}
		if s.recording() {
			s.Record(ctx, Event{Kind: EventTokenIssued, ClientID: ar.Client.ID, UserID: user.ID, GrantType: GrantImplicit,
				Scope: tok.Scope, GrantID: tok.GrantID, TokenID: tokenID(tok)})
		}
		v.Set("access_token", tok.AccessToken)
		v.Set("token_type", "Bearer")
		if d := tok.AccessTokenExpiresAt.Sub(tok.IssuedAt); d > 0 {
			v.Set("expires_in", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
		}
		if len(tok.Scope) > 0 {
			v.Set("scope", FormatScope(tok.Scope))
		}
	}
	if s.recording() {
		s.Record(ctx, Event{Kind: EventConsentGranted, ClientID: ar.Client.ID, UserID: user.ID, Scope: granted})
	}
	return appendParams(ar.RedirectURI, v, ar.fragment), nil
}

// issueCode generates and saves an authorization code (RFC 6749 §4.1.2).
func (s *Server) issueCode(ctx context.Context, ar *AuthorizeRequest, user *User, scope []string, sess *OpenIDSession) (string, error) {
	if s.codes == nil {
		return "", errBadResponseType
	}
	raw, err := s.newAuthorizationCode(ctx, ar.Client, user, scope)
	if err != nil {
		return "", err
	}
	grantID, err := s.newID()
	if err != nil {
		return "", err
	}
	now := s.now()
	code := &AuthorizationCode{
		Code:                raw,
		ExpiresAt:           now.Add(s.opts.AuthorizationCodeLifetime),
		RedirectURI:         ar.redirectParam,
		Scope:               scope,
		ClientID:            ar.Client.ID,
		UserID:              user.ID,
		CodeChallenge:       ar.CodeChallenge,
		CodeChallengeMethod: ar.CodeChallengeMethod,
		GrantID:             grantID,
		IssuedAt:            now,
		OpenID:              sess,
		DPoPJKT:             ar.DPoPJKT,
		Resources:           ar.Resources,
	}
	if err := s.codes.SaveAuthorizationCode(ctx, code, ar.Client, user); err != nil {
		return "", storeError("SaveAuthorizationCode", err)
	}
	return raw, nil
}
