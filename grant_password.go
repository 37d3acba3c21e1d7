package oauth2server

import (
	"context"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

var (
	errNoCredentials = oerrors.ErrInvalidRequest.WithDescription("The username and password parameters are required.")
	errBadUser       = oerrors.ErrInvalidGrant.WithDescription("The resource owner credentials are invalid.")
)

// grantPassword implements the resource owner password credentials grant
// (RFC 6749 §4.3). It is off unless listed in Options.Grants: RFC 9700 §2.4
// says it MUST NOT be used, and it turns the token endpoint into a password
// guessing oracle that must be rate-limited.
func (s *Server) grantPassword(ctx context.Context, req *TokenRequest) (*issue, error) {
	username, password := req.Params["username"], req.Params["password"]
	if username == "" || password == "" {
		return nil, errNoCredentials
	}
	// Failures only are throttled, per username and per source address
	// (RFC 6749 §4.3.2, R-66, R-112): a delayed request is
	// refused before the password is checked, so it tells nothing.
	address := s.ClientAddress(req.HTTPRequest)
	wait, err := s.login.Attempt(ctx, username, address)
	if err != nil {
		return nil, storeError("AddCounter", err)
	}
	if wait > 0 {
		return nil, errThrottled.WithDescription(throttleDescriptionPasswordWait).WithRetryAfter(wait)
	}
	user, err := s.users.GetUser(ctx, username, password)
	if err != nil {
		// A store fault says nothing about the password: it must not
		// count as a failure, or an outage would delay every account.
		_ = s.login.Succeeded(ctx, username, address)
		return nil, storeError("GetUser", err)
	}
	if user == nil {
		return nil, errBadUser
	}
	if err := s.login.Succeeded(ctx, username, address); err != nil {
		return nil, storeError("AddCounter", err)
	}
	scope, err := s.validateScope(ctx, req.Client, user, req.Scope)
	if err != nil {
		return nil, err
	}
	return &issue{user: user, scope: scope, refresh: true}, nil
}
