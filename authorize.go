package oauth2server

import (
	"context"
	stderrors "errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/form"
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

var errQueryTooLarge = oerrors.ErrInvalidRequest.WithDescription("The request is too large.")

// ValidateAuthorizeRequest validates the query of an authorization request
// (RFC 6749 §4.1.1, §4.2.1, RFC 7636 §4.3) and returns it for a login or
// consent page. It reads only the URL query, so the page's POST can send the
// same query back and have it validated again, never trusting form fields
// for the client or the redirect URI.
//
// It checks client_id and redirect_uri first; their errors are shown to the
// user. Then response_type, the client's right to use it, state (required
// unless [Options.AllowEmptyState]), scope (through ValidateScope, with a
// nil user) and PKCE (required for public clients and with
// [Options.RequirePKCE]; S256 only unless [Options.AllowPlainPKCE]); their
// errors are redirected. Every error is an *[AuthorizeError]; answer it
// with [Server.AuthorizeErrorResponse].
//
// A request with a request_uri of the PAR endpoint (RFC 9126 §4) is read
// from the store instead: client_id must name the client that pushed it,
// the request_uri must be unexpired and not yet consumed (these errors,
// invalid_request_uri, are shown), and every other front-channel
// parameter is ignored. Its parameters are validated again,
// against the client's registration of now. The request_uri is consumed
// by [Server.Authorize], when the decision is made, so that the consent
// page may be reloaded and its form posted back with the same request_uri
// ([AuthorizeRequest.Query]). With [PAROptions.Require] or
// [Client.RequirePushedAuthorizationRequests], a request without
// request_uri is invalid_request.
func (s *Server) ValidateAuthorizeRequest(r *http.Request) (*AuthorizeRequest, error) {
	ctx := r.Context()
	if err := s.CheckTLS(r); err != nil {
		return nil, showError(err)
	}
	if int64(len(r.URL.RawQuery)) > s.opts.MaxBodyBytes {
		// The request line is bounded by the HTTP server's header limit
		// only (1 MiB by default in net/http): cap the query like a body,
		// before it is parsed.
		return nil, showError(errQueryTooLarge)
	}
	var p form.Params
	var perr error
	if IsAuthorizePost(r) {
		// OIDC Core §3.1.2.1: the request may come as a form POST. A
		// malformed body is shown, never redirected: which redirect URI to
		// trust is not known.
		if p, perr = form.ParseBody(nil, r, s.opts.MaxBodyBytes); perr != nil {
			return nil, showError(perr)
		}
	} else if p, perr = form.Query(r); perr != nil {
		// A malformed or repeated parameter can still be redirected if
		// client_id and redirect_uri are each unambiguous.
		if p = lenientQuery(r.URL.RawQuery); p == nil {
			return nil, showError(perr)
		}
	}
	var src authorizeSource
	if p["request_uri"] != "" && perr == nil && s.pars != nil {
		var err error
		if src.pushed, p, err = s.loadPushed(ctx, p); err != nil {
			return nil, showError(err)
		}
	}
	return s.validateAuthorize(ctx, p, perr, src)
}

// authorizeSource says where the parameters of an authorization request
// come from.
type authorizeSource struct {
	// pushed is the pushed request the parameters were read from, nil for
	// a front-channel request.
	pushed *PushedAuthorizationRequest
	// pushing is set at the PAR endpoint, which validates a request before
	// it stores it; client is the client it authenticated.
	pushing bool
	client  *Client
}

// validateAuthorize validates the parameters of an authorization request,
// for the authorization endpoint and the PAR endpoint alike; perr is a
// parse error of the query that lenientQuery overcame.
func (s *Server) validateAuthorize(ctx context.Context, p form.Params, perr error, src authorizeSource) (*AuthorizeRequest, error) {
	clientID := p["client_id"]
	if clientID == "" {
		return nil, showError(errNoClientID)
	}
	client := src.client
	if client == nil {
		var err error
		if client, err = s.model.GetClient(ctx, clientID); err != nil {
			return nil, showError(storeError("GetClient", err))
		}
		if client == nil {
			return nil, showError(errUnknownClient)
		}
	}
	redirect, err := s.resolveRedirectURI(ctx, client, p["redirect_uri"])
	if err != nil {
		return nil, showError(err)
	}
	if err := s.profileRedirect(redirect); err != nil {
		return nil, showError(err)
	}
	ar := &AuthorizeRequest{
		ResponseType:  p["response_type"],
		Client:        client,
		RedirectURI:   redirect,
		State:         p["state"],
		Params:        p,
		redirectParam: p["redirect_uri"],
		fragment:      p["response_type"] == ResponseTypeToken && s.opts.AllowImplicitGrant,
		issuer:        s.opts.Issuer,
	}
	if src.pushed != nil {
		ar.RequestURI, ar.pushedAt = src.pushed.RequestURI, src.pushed.IssuedAt
	}
	if err := ar.setResponseMode(p["response_mode"]); err != nil {
		// an unsupported mode gives no way to answer the client.
		return nil, showError(err)
	}
	if perr != nil {
		return nil, ar.fail(perr)
	}
	if src.pushed == nil && !src.pushing && s.requiresPAR(client) {
		return nil, ar.fail(errPARRequired)
	}
	switch ar.ResponseType {
	case "":
		return nil, ar.fail(errNoResponseType)
	case ResponseTypeCode:
		if !s.GrantEnabled(GrantAuthorizationCode) {
			return nil, ar.fail(errBadResponseType)
		}
		if !client.HasGrant(GrantAuthorizationCode) {
			return nil, ar.fail(errResponseNotAllowed)
		}
	case ResponseTypeToken:
		if !s.opts.AllowImplicitGrant {
			return nil, ar.fail(errBadResponseType)
		}
		if !client.HasGrant(GrantImplicit) {
			return nil, ar.fail(errResponseNotAllowed)
		}
	default:
		return nil, ar.fail(errBadResponseType)
	}
	if ar.State == "" && !s.opts.AllowEmptyState {
		return nil, ar.fail(errNoState)
	}
	if ar.RequestedScope, err = s.parseScope(p["scope"]); err != nil {
		return nil, ar.fail(err)
	}
	if ar.Scope, err = s.validateScope(ctx, client, nil, ar.RequestedScope); err != nil {
		return nil, ar.fail(err)
	}
	if ar.Resources, err = parseResources(form.Values(p, form.Resource)); err != nil {
		return nil, ar.fail(err)
	}
	if err := s.allowResources(ctx, client, ar.Resources); err != nil {
		return nil, ar.fail(err)
	}
	if ar.ResponseType == ResponseTypeCode {
		if err := s.checkChallenge(ar, p); err != nil {
			return nil, ar.fail(err)
		}
		if j := p["dpop_jkt"]; j != "" && s.dpop != nil {
			if !validThumbprint(j) {
				return nil, ar.fail(errDPoPJKTSyntax)
			}
			ar.DPoPJKT = j
		}
	}
	if err := s.checkOpenIDRequest(ar, p); err != nil {
		return nil, ar.fail(err)
	}
	ar.validated = true
	return ar, nil
}

// Query returns the query that repeats the request at the authorization
// endpoint, for a consent form's action or the way back from a login: for
// a pushed request its client_id and request_uri (its parameters stay on
// the server, RFC 9126 §4), otherwise every parameter, sorted, so that
// the query does not depend on how a browser or a template escaped it.
func (ar *AuthorizeRequest) Query() string {
	if ar.RequestURI != "" {
		return url.Values{"client_id": {ar.Client.ID}, "request_uri": {ar.RequestURI}}.Encode()
	}
	return encodeParams(ar.Params)
}

// checkChallenge validates the PKCE parameters of a code request
// (RFC 7636 §4.3, §4.4.1; RFC 9700 §2.1.1).
func (s *Server) checkChallenge(ar *AuthorizeRequest, p map[string]string) error {
	challenge, method := p["code_challenge"], p["code_challenge_method"]
	if challenge == "" {
		if method != "" {
			return errMethodNoChallenge
		}
		if ar.Client.IsPublic() || s.opts.RequirePKCE {
			return errChallengeRequired
		}
		return nil
	}
	if method == "" {
		method = PKCEMethodPlain // RFC 7636 §4.3: absent means plain
	}
	switch {
	case method == PKCEMethodS256:
	case method == PKCEMethodPlain && s.opts.AllowPlainPKCE:
	default:
		return errChallengeMethod
	}
	if !ValidPKCEString(challenge) {
		return errChallengeSyntax
	}
	ar.CodeChallenge, ar.CodeChallengeMethod = challenge, method
	return nil
}

// lenientQuery parses a query that form.Query refused, keeping only what
// is needed to redirect the error: client_id and redirect_uri must each
// appear at most once (else nil: the error is shown, RFC 6749 §4.1.2.1);
// state and response_type are kept when unambiguous.
func lenientQuery(raw string) map[string]string {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil
	}
	single := func(key string) (string, bool) {
		var out string
		n := 0
		for _, v := range vals[key] {
			if v != "" {
				out = v
				n++
			}
		}
		if n > 1 || !utf8.ValidString(out) {
			return "", false
		}
		return out, true
	}
	p := make(map[string]string, 4)
	for _, key := range [...]string{"client_id", "redirect_uri"} {
		v, ok := single(key)
		if !ok {
			return nil
		}
		if v != "" {
			p[key] = v
		}
	}
	for _, key := range [...]string{"state", "response_type"} {
		if v, ok := single(key); ok && v != "" {
			p[key] = v
		}
	}
	return p
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
