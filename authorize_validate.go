package oauth2server

import (
	"context"
	"net/http"
	"net/url"
	"unicode/utf8"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/form"
)

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
