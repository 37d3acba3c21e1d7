package oauth2server

import (
	stderrors "errors"
	"net/http"
	"net/url"
	"time"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// Response types of the authorization endpoint (RFC 6749 §3.1.1).
const (
	// ResponseTypeCode asks for an authorization code (RFC 6749 §4.1).
	ResponseTypeCode = "code"
	// ResponseTypeToken asks for an access token in the redirect URI's
	// fragment: the legacy implicit grant (RFC 6749 §4.2), off unless
	// [Options.AllowImplicitGrant].
	ResponseTypeToken = "token"
)

// GrantImplicit is the entry of [Client.Grants] that lets a client use the
// implicit grant (response_type=token). It is not a token endpoint grant.
const GrantImplicit = "implicit"

var (
	errNoClientID         = oerrors.ErrInvalidRequest.WithDescription("The client_id parameter is missing.")
	errUnknownClient      = oerrors.ErrInvalidRequest.WithDescription("The client_id is not registered.")
	errNoResponseType     = oerrors.ErrInvalidRequest.WithDescription("The response_type parameter is missing.")
	errBadResponseType    = oerrors.ErrUnsupportedResponseType.WithDescription("The response_type is not supported.")
	errResponseNotAllowed = oerrors.ErrUnauthorizedClient.WithDescription("The client is not authorized to use this response type.")
	errNoState            = oerrors.ErrInvalidRequest.WithDescription("The state parameter is required.")
	errChallengeRequired  = oerrors.ErrInvalidRequest.WithDescription("A code_challenge is required (RFC 7636 section 4.4.1).")
	errChallengeSyntax    = oerrors.ErrInvalidRequest.WithDescription("The code_challenge is malformed (RFC 7636 section 4.2).")
	errChallengeMethod    = oerrors.ErrInvalidRequest.WithDescription("The code_challenge_method is not supported; use S256.")
	errMethodNoChallenge  = oerrors.ErrInvalidRequest.WithDescription("A code_challenge_method was sent without code_challenge.")
	errGrantedScope       = oerrors.ErrInvalidScope.WithDescription("The granted scope exceeds the scope of the request.")
	errDenied             = oerrors.ErrAccessDenied.WithDescription("The resource owner denied the request.")
)

// AuthorizeRequest is a validated authorization request (RFC 6749 §4.1.1,
// §4.2.1), as returned by [Server.ValidateAuthorizeRequest]. A login or
// consent page renders it; [Server.Authorize] completes it.
type AuthorizeRequest struct {
	// ResponseType is [ResponseTypeCode] or [ResponseTypeToken].
	ResponseType string
	// Client is the registered client that made the request.
	Client *Client
	// RedirectURI is where the response goes: the request's redirect_uri,
	// or the client's only registered URI when the request had none.
	RedirectURI string
	// State is the state parameter, echoed exactly in the response.
	State string
	// RequestedScope is the scope parameter as parsed; nil when absent.
	RequestedScope []string
	// Scope is the scope ValidateScope grants for this request (before the
	// user is known): what a consent page shows.
	Scope []string
	// Resources are the resource indicators of the request (RFC 8707),
	// allowed for the client: the resource servers the token will be for,
	// which a consent page should name. Nil when none was sent.
	Resources []string
	// CodeChallenge and CodeChallengeMethod are the PKCE parameters
	// (RFC 7636); empty when absent.
	CodeChallenge       string
	CodeChallengeMethod string
	// Params holds every query parameter, once each, unknown ones included
	// (RFC 6749 §3.1 says to ignore them; extensions may read them).
	Params map[string]string
	// ResponseMode is how the response reaches the client: query,
	// fragment or form_post (the response_mode parameter, or the response
	// type's default). With form_post the endpoint answers with a page that
	// posts the response ([AuthorizeResponse]).
	ResponseMode string

	// OpenID is set when the request is an OpenID Connect authentication
	// request: the scope has openid and the Server is an OpenID Provider.
	// The fields below it are only set then.
	OpenID *OpenIDRequest

	// RequestURI is the request_uri of a request pushed to the PAR
	// endpoint (RFC 9126), whose parameters Params holds; empty for a
	// request made in the front channel.
	RequestURI string
	// DPoPJKT is the dpop_jkt parameter (RFC 9449 §10), or the thumbprint
	// of the DPoP proof sent to the PAR endpoint: the code is bound to
	// that key. Empty when unbound, and always without [Options.DPoP].
	DPoPJKT string

	pushedAt      time.Time // when the request was pushed
	redirectParam string    // the redirect_uri parameter as sent, "" when absent
	fragment      bool
	issuer        string
	validated     bool
}

// AuthorizeError is an error of the authorization endpoint. Either it is
// redirected to the client ([AuthorizeError.RedirectURL]), or, when the
// client or its redirect URI could not be trusted, it must be shown to the
// user and never redirected, so that the endpoint cannot serve as an open
// redirector (RFC 6749 §4.1.2.1, §10.15). Use [Server.AuthorizeErrorResponse]
// to decide for any error.
type AuthorizeError struct {
	// Err is the OAuth error: its Code and Description go to the client
	// or to the page.
	Err *oerrors.Error

	redirect string
	state    string
	fragment bool
	mode     string // the response mode of a redirected error
	issuer   string
}

// Error implements error.
func (e *AuthorizeError) Error() string { return e.Err.Error() }

// Unwrap returns Err, so that errors.Is(err, errors.ErrAccessDenied) works.
func (e *AuthorizeError) Unwrap() error { return e.Err }

// ShowToUser reports whether the error must be shown to the user instead
// of being redirected.
func (e *AuthorizeError) ShowToUser() bool { return e.redirect == "" }

// RedirectURL returns the client's redirect URI with error,
// error_description, error_uri, state and iss added (RFC 6749 §4.1.2.1,
// RFC 9207), or "" when the error must be shown to the user.
func (e *AuthorizeError) RedirectURL() string {
	if e.redirect == "" {
		return ""
	}
	v := url.Values{"error": {e.Err.Code}}
	if e.Err.Description != "" {
		v.Set("error_description", e.Err.Description)
	}
	if e.Err.URI != "" {
		v.Set("error_uri", e.Err.URI)
	}
	if e.state != "" {
		v.Set("state", e.state)
	}
	if e.issuer != "" {
		v.Set("iss", e.issuer)
	}
	return appendParams(e.redirect, v, e.fragment)
}

// showError wraps an error that must not be redirected.
func showError(err error) error {
	return &AuthorizeError{Err: oerrors.From(err)}
}

// fail returns err as an error redirected to the client of ar.
func (ar *AuthorizeRequest) fail(err error) error {
	return &AuthorizeError{Err: oerrors.From(err), redirect: ar.RedirectURI, state: ar.State,
		fragment: ar.fragment, mode: ar.ResponseMode, issuer: ar.issuer}
}

// AuthorizeErrorResponse says how to answer err from
// [Server.ValidateAuthorizeRequest] or [Server.Authorize]: either a URL to
// redirect the user agent to (302 after GET, 303 after POST), or, when
// redirectURL is empty, an error to show on a page with page.Status. Only an
// *AuthorizeError that names a validated redirect URI is ever redirected;
// anything else is shown. Server faults are logged, never shown.
func (s *Server) AuthorizeErrorResponse(r *http.Request, err error) (redirectURL string, page *oerrors.Error) {
	e := oerrors.From(err)
	if oerrors.IsServerError(e) {
		s.logFault(r, "oauth2server: authorization request failed", e)
	}
	var ae *AuthorizeError
	if stderrors.As(err, &ae) && !ae.ShowToUser() {
		return ae.RedirectURL(), nil
	}
	return "", e
}

// ResponseTypes returns the response types the authorization endpoint
// accepts (for metadata): "code" when the authorization_code grant is
// enabled, and "token" with [Options.AllowImplicitGrant].
func (s *Server) ResponseTypes() []string {
	var rt []string
	if s.GrantEnabled(GrantAuthorizationCode) {
		rt = append(rt, ResponseTypeCode)
	}
	if s.opts.AllowImplicitGrant {
		rt = append(rt, ResponseTypeToken)
	}
	return rt
}
