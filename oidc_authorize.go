package oauth2server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	stderrors "errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// OpenIDRequest holds the OpenID Connect parameters of an authentication
// request (OIDC Core §3.1.2.1) that the login and consent steps act on.
type OpenIDRequest struct {
	// Nonce is the nonce parameter, echoed in the ID token.
	Nonce string
	// Prompt lists the prompt values: none, login, consent, select_account.
	Prompt []string
	// MaxAge is the max_age parameter; negative when absent. When the
	// user authenticated longer ago, they must authenticate again (0 is
	// prompt=login).
	MaxAge time.Duration
	// LoginHint is the login_hint parameter, for the login page to fill in.
	LoginHint string
	// IDTokenHintSubject is the sub of a valid id_token_hint (signed by
	// this provider, expired or not); "" when none was sent. The user must
	// be this subject.
	IDTokenHintSubject string
	// UILocales are the ui_locales, preferred first, for the pages.
	UILocales []string
	// ACRValues are the requested acr_values, preferred first.
	ACRValues []string
	// Claims is the validated claims parameter, nil when absent.
	Claims *ClaimsRequest

	claimsRaw string
}

// HasPrompt reports whether the request carries the prompt value p.
func (o *OpenIDRequest) HasPrompt(p string) bool {
	return o != nil && slices.Contains(o.Prompt, p)
}

var (
	errResponseMode   = oerrors.ErrInvalidRequest.WithDescription("The response_mode is not supported for this response type.")
	errPrompt         = oerrors.ErrInvalidRequest.WithDescription("The prompt parameter is invalid: none must be alone, and the values are none, login, consent and select_account.")
	errMaxAge         = oerrors.ErrInvalidRequest.WithDescription("The max_age parameter must be a non-negative integer.")
	errNonceTooLong   = oerrors.ErrInvalidRequest.WithDescription("The nonce parameter is too long.")
	errIDTokenHint    = oerrors.ErrInvalidRequest.WithDescription("The id_token_hint is not an ID token of this provider.")
	errRequestObject  = oerrors.ErrRequestNotSupported.WithDescription("Request objects (the request parameter) are not supported.")
	errRequestURI     = oerrors.ErrRequestURINotSupported.WithDescription("The request_uri parameter is not supported.")
	errHintMismatch   = oerrors.ErrLoginRequired.WithDescription("The logged-in user is not the user of the id_token_hint.")
	errOIDCNeedsLogin = oerrors.ErrLoginRequired.WithDescription("The user must log in.")
)

// maxNonce bounds the nonce: FAPI 2.0 needs 64 characters, and nothing
// needs more than a few hundred.
const maxNonce = 512

// setResponseMode sets the response mode from the response_mode parameter
// (OAuth 2.0 Multiple Response Type Encoding Practices §2.1): a token is
// never put in the query.
func (ar *AuthorizeRequest) setResponseMode(mode string) error {
	def := ResponseModeQuery
	if ar.fragment {
		def = ResponseModeFragment
	}
	switch mode {
	case "":
		ar.ResponseMode = def
	case ResponseModeQuery:
		if ar.fragment {
			return errResponseMode
		}
		ar.ResponseMode = mode
	case ResponseModeFragment:
		ar.ResponseMode, ar.fragment = mode, true
	case ResponseModeFormPost:
		// The response parameters go in the fragment of the URL Authorize
		// returns: a redirect URI has no fragment (RFC 6749 §3.1.2), so the
		// writer of the form splits it unambiguously.
		ar.ResponseMode, ar.fragment = mode, true
	default:
		return errResponseMode
	}
	return nil
}

// checkOpenIDRequest validates the OpenID Connect parameters of an
// authentication request; a request without openid is left alone.
func (s *Server) checkOpenIDRequest(ar *AuthorizeRequest, p map[string]string) error {
	if p["request"] != "" {
		return errRequestObject
	}
	if p["request_uri"] != "" {
		return errRequestURI
	}
	if ar.ResponseType != ResponseTypeCode || !s.isOpenID(ar.RequestedScope) {
		return nil
	}
	o := &OpenIDRequest{Nonce: p["nonce"], LoginHint: p["login_hint"], MaxAge: -1,
		UILocales: strings.Fields(p["ui_locales"]), ACRValues: strings.Fields(p["acr_values"])}
	if len(o.Nonce) > maxNonce {
		return errNonceTooLong
	}
	o.Prompt = strings.Fields(p["prompt"])
	for _, v := range o.Prompt {
		switch v {
		case PromptNone:
			if len(o.Prompt) > 1 {
				return errPrompt
			}
		case PromptLogin, PromptConsent, PromptSelectAccount:
		default:
			return errPrompt
		}
	}
	if v, ok := p["max_age"]; ok && v != "" {
		n, err := strconv.ParseUint(v, 10, 31)
		if err != nil {
			return errMaxAge
		}
		o.MaxAge = time.Duration(n) * time.Second
	}
	if hint := p["id_token_hint"]; hint != "" {
		claims, err := s.parseIDToken(hint)
		if err != nil || !slices.Contains(claims.Audience, ar.Client.ID) {
			return errIDTokenHint
		}
		o.IDTokenHintSubject = claims.Subject
	}
	if raw := p["claims"]; raw != "" {
		cr, err := ParseClaimsRequest(raw)
		if err != nil {
			return err
		}
		o.Claims, o.claimsRaw = cr, raw
	}
	if _, err := s.idTokenKey(ar.Client); err != nil {
		return err
	}
	ar.OpenID = o
	return nil
}

// parseIDToken verifies an ID token this provider signed, as an
// id_token_hint: signature with one of our keys under its own algorithm,
// typ JWT and iss. Expiry is not checked: an expired ID token is a valid
// hint (OIDC Core §3.1.2.1, RP-Initiated Logout §2).
func (s *Server) parseIDToken(raw string) (*jwt.RegisteredClaims, error) {
	if s.jwt == nil || len(raw) > maxAccessTokenBytes {
		return nil, errIDTokenHint
	}
	claims := &jwt.RegisteredClaims{}
	p := jwt.NewParser(jwt.WithValidMethods(s.jwt.algs), jwt.WithoutClaimsValidation())
	_, err := p.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != "" && !strings.EqualFold(typ, "JWT") {
			return nil, stderrors.New("typ is not JWT")
		}
		kid, _ := t.Header["kid"].(string)
		k, ok := s.jwt.byKID[kid]
		if !ok || t.Method.Alg() != k.alg {
			return nil, stderrors.New("unknown kid or alg")
		}
		return k.public, nil
	})
	if err != nil || claims.Issuer != s.opts.Issuer || claims.Subject == "" {
		return nil, errIDTokenHint
	}
	return claims, nil
}

// Interaction is what the authorization endpoint must do before it may
// answer an OpenID Connect request, as [Server.CheckLogin] decides.
type Interaction int

const (
	// InteractionNone: the login is good enough; go on to consent.
	InteractionNone Interaction = iota
	// InteractionLogin: the user must log in, or log in again (no user,
	// prompt=login or select_account, or a login older than max_age).
	// Send them to the login page with [LoginReturnQuery] as where to come
	// back.
	InteractionLogin
)

// CheckLogin decides, for a validated request, whether the user's login
// satisfies it (OIDC Core §3.1.2.1-3): user is nil when nobody is logged
// in. It answers [InteractionLogin] when the user must (re)authenticate,
// and an error to redirect to the client when the request forbids that
// interaction (prompt=none → login_required, R-127) or names another user
// (id_token_hint, R-129). Plain OAuth requests need only a user.
func (s *Server) CheckLogin(ar *AuthorizeRequest, user *User, auth Authentication) (Interaction, error) {
	o := ar.OpenID
	need := user == nil
	if o != nil && user != nil {
		if ar.LoginSatisfies() && !ar.loggedInSincePush(auth) {
			need = true
		}
		if o.MaxAge > 0 && (auth.Time.IsZero() || s.now().Sub(auth.Time) > o.MaxAge) {
			need = true
		}
	}
	if need {
		if o.HasPrompt(PromptNone) {
			return InteractionNone, ar.fail(errOIDCNeedsLogin)
		}
		return InteractionLogin, nil
	}
	if o != nil && o.IDTokenHintSubject != "" {
		sub, err := s.Subject(ar.Client, user.ID)
		if err != nil {
			return InteractionNone, ar.fail(oerrors.ServerError(err))
		}
		if sub != o.IDTokenHintSubject {
			return InteractionNone, ar.fail(errHintMismatch)
		}
	}
	return InteractionNone, nil
}

// ConsentRequired returns the error to redirect when the request needs the
// consent page but forbids it (prompt=none, R-127), or nil when the page
// may be shown.
func (ar *AuthorizeRequest) ConsentRequired() error {
	if ar.OpenID.HasPrompt(PromptNone) {
		return ar.fail(oerrors.ErrConsentRequired)
	}
	return nil
}

// MustAskConsent reports whether the consent page must be shown even when
// the user approved the client before (prompt=consent, R-128).
func (ar *AuthorizeRequest) MustAskConsent() bool {
	return ar.OpenID.HasPrompt(PromptConsent)
}

// LoginSatisfies reports whether the request asks for a login that the
// next login satisfies: prompt=login, prompt=select_account or max_age=0,
// which [AuthorizeRequest.LoginReturnQuery] removes. A pushed request
// keeps them; a login after the push satisfies them.
func (ar *AuthorizeRequest) LoginSatisfies() bool {
	o := ar.OpenID
	return o != nil && (o.HasPrompt(PromptLogin) || o.HasPrompt(PromptSelectAccount) || o.MaxAge == 0)
}

// loggedInSincePush reports whether the user of a pushed request logged in
// after it was pushed: that login satisfies prompt=login, select_account
// and max_age=0, which stay in the stored request when the user comes back
// from the login page (whole seconds, as login times often are).
func (ar *AuthorizeRequest) loggedInSincePush(auth Authentication) bool {
	return ar.RequestURI != "" && !auth.Time.IsZero() &&
		!auth.Time.Truncate(time.Second).Before(ar.pushedAt.Truncate(time.Second))
}

// LoginReturnQuery returns the query of the request for the login page to
// come back to after a login that [Server.CheckLogin] asked for. The
// prompt values login and select_account, which that login satisfies, are
// removed, as is a max_age of 0, so that coming back does not ask for the
// login again; a positive max_age stays, and the fresh login satisfies it.
// A pushed request comes back as its client_id and request_uri
// ([AuthorizeRequest.Query]); a login after the push satisfies it.
func (ar *AuthorizeRequest) LoginReturnQuery() string {
	if ar.RequestURI != "" {
		return ar.Query()
	}
	v := make(url.Values, len(ar.Params))
	for k, val := range ar.Params {
		v.Set(k, val)
	}
	if o := ar.OpenID; o != nil {
		var keep []string
		for _, p := range o.Prompt {
			if p != PromptLogin && p != PromptSelectAccount {
				keep = append(keep, p)
			}
		}
		if len(keep) > 0 {
			v.Set("prompt", strings.Join(keep, " "))
		} else {
			v.Del("prompt")
		}
		if o.MaxAge == 0 {
			v.Del("max_age")
		}
	}
	return v.Encode()
}

// AuthorizeResponse writes the response of the authorization endpoint to
// the client: target is the URL [Server.Authorize] or
// [Server.AuthorizeErrorResponse] returned and mode the request's
// ResponseMode (see [ResponseModeOf]). Query and fragment are a redirect
// with status (302 after a GET, 303 after a POST, RFC 9700 §4.12);
// form_post is a page that posts the response parameters to the redirect
// URI (OAuth 2.0 Form Post Response Mode §2), with a CSP that allows only
// its own inline script and the form's target.
func AuthorizeResponse(w http.ResponseWriter, status int, target, mode string) {
	if mode != ResponseModeFormPost {
		w.Header().Set("Location", target)
		w.WriteHeader(status)
		return
	}
	action, frag, _ := strings.Cut(target, "#")
	vals, _ := url.ParseQuery(frag)
	if !safeFormAction(action) {
		http.Error(w, "The redirect URI cannot receive a form post.", http.StatusBadRequest)
		return
	}
	type field struct{ Name, Value string }
	page := struct {
		Action template.URL // a registered, validated redirect URI
		Fields []field
	}{Action: template.URL(action)}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		page.Fields = append(page.Fields, field{k, vals.Get(k)})
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src '"+formPostScriptHash+"'; form-action "+
		cspSource(action)+"; frame-ancestors 'none'")
	w.WriteHeader(http.StatusOK)
	_ = formPostTemplate.Execute(w, page)
}

// ResponseModeOf returns the response mode of the request, or of the
// request behind err when validation failed (query when unknown), for
// [AuthorizeResponse].
func ResponseModeOf(ar *AuthorizeRequest, err error) string {
	if ar != nil {
		return ar.ResponseMode
	}
	var ae *AuthorizeError
	if stderrors.As(err, &ae) && ae.mode != "" {
		return ae.mode
	}
	return ResponseModeQuery
}

// safeFormAction refuses the schemes that run code in the page itself;
// html/template would otherwise have to be trusted with a custom-scheme
// redirect URI it does not know.
func safeFormAction(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch strings.ToLower(p.Scheme) {
	case "", "javascript", "data", "vbscript", "blob", "file":
		return false
	}
	return true
}

// cspSource is the origin of a URL for a CSP source list.
func cspSource(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Scheme == "" {
		return "'none'"
	}
	if p.Host == "" {
		return p.Scheme + ":"
	}
	return p.Scheme + "://" + p.Host
}

const formPostScript = `document.forms[0].submit()`

// formPostScriptHash is the CSP hash of formPostScript.
var formPostScriptHash = func() string {
	sum := sha256.Sum256([]byte(formPostScript))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}()

var formPostTemplate = template.Must(template.New("form_post").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Submit</title></head>
<body><form method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><button type="submit">Continue</button></noscript>
</form><script>` + formPostScript + `</script></body></html>
`))

// openIDSession is the session an approved OpenID Connect request keeps
// with its code; nil when the request or the granted scope is not OpenID
// Connect.
func (s *Server) openIDSession(ar *AuthorizeRequest, granted []string, auth Authentication) (*OpenIDSession, error) {
	o := ar.OpenID
	if o == nil || !slices.Contains(granted, ScopeOpenID) {
		return nil, nil
	}
	if auth.Time.IsZero() && o.MaxAge >= 0 {
		// auth_time is required when max_age was sent.
		return nil, oerrors.ServerError(errorf("the login step reported no Authentication.Time, which max_age needs"))
	}
	return &OpenIDSession{Nonce: o.Nonce, AuthTime: auth.Time.Truncate(time.Second), ACR: auth.ACR,
		AMR: slices.Clone(auth.AMR), Claims: o.claimsRaw}, nil
}

// IsAuthorizePost reports whether r is an authorization request sent as a
// form POST (OIDC Core §3.1.2.1): a POST without a query. A POST with a
// query is the consent form of package handlers, whose action is the
// validated request's query.
func IsAuthorizePost(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.RawQuery == ""
}

// LoginPrompt is what the authorization endpoint tells the login step when
// it sends the user there: in the context of the request its LoginRequired
// hook receives ([LoginPromptFromContext]).
type LoginPrompt struct {
	// Request is the validated authorization request, nil when it was not
	// valid (the login comes first, so that errors are never redirected
	// for an anonymous visitor).
	Request *AuthorizeRequest
	// Reauthenticate is set when a user is logged in but must
	// authenticate again (prompt=login or select_account, or max_age):
	// the login page must ask for credentials even with a live session.
	Reauthenticate bool
	// LoginHint is the login_hint of the request, to prefill the form.
	LoginHint string
	// ReturnTo is where the login page sends the user back: the
	// authorization endpoint's path with the request's query, without what
	// the login satisfies ([AuthorizeRequest.LoginReturnQuery]).
	ReturnTo string
}

type loginPromptKey struct{}

// ContextWithLoginPrompt returns ctx carrying p, for the LoginRequired
// hook of the authorization endpoint.
func ContextWithLoginPrompt(ctx context.Context, p *LoginPrompt) context.Context {
	return context.WithValue(ctx, loginPromptKey{}, p)
}

// LoginPromptFromContext returns the LoginPrompt of the request being sent
// to the login step, if any.
func LoginPromptFromContext(ctx context.Context) (*LoginPrompt, bool) {
	p, ok := ctx.Value(loginPromptKey{}).(*LoginPrompt)
	return p, ok
}
