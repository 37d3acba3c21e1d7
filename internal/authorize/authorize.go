// Package authorize holds what the Echo handler (package handlers) and the
// net/http handler (package nethttp) of the authorization endpoint share:
// the method check, the validation of the request, the user and session
// lookup, the consent form's CSRF token and single use, the decision,
// remembered consent, the choice between a redirect and an error page, the
// page headers and the built-in pages. It works on an http.ResponseWriter
// and an *http.Request; the application's hooks come in as closures, so
// that the Echo layer keeps hooks that take an echo.Context. The two
// packages differ only in how they hand a hook's error to their framework.
package authorize

import (
	"crypto/rand"
	stderrors "errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/page"
)

// Form fields and decisions of the consent form POST; packages handlers
// and nethttp export them under the same names.
const (
	FieldDecision   = "decision"
	FieldCSRFToken  = "csrf_token"
	FieldScope      = "scope"
	DecisionApprove = "approve"
	DecisionDeny    = "deny"
)

// DefaultCSRFMaxAge is how long a consent form stays valid by default.
const DefaultCSRFMaxAge = 30 * time.Minute

// consentPurpose is the purpose of the consent form's single-use claims
// ([oauth2server.Server.ClaimOnce]).
const consentPurpose = "consent"

var (
	errLoginRequired = &oerrors.Error{Code: "login_required", Status: http.StatusUnauthorized,
		Description: "Log in to continue."}
	errBadMethod = oerrors.ErrInvalidRequest.WithStatus(http.StatusMethodNotAllowed).
			WithDescription("The authorization endpoint accepts GET, HEAD and POST only.")
	errBadConsentForm = oerrors.ErrInvalidRequest.WithStatus(http.StatusForbidden).
				WithDescription("The consent form is invalid or expired. Go back to the application and try again.")
	errBadDecision = oerrors.ErrInvalidRequest.
			WithDescription("The consent form did not carry a valid decision.")
)

// Config is the framework-neutral part of an endpoint's configuration. The
// caller checks its own required fields (Server, its user hook) first, so
// that its errors come in the order of its documentation.
type Config struct {
	// Name prefixes the configuration errors and log messages, e.g.
	// "handlers".
	Name     string
	Server   *oauth2server.Server
	CSRFKey  []byte
	MaxAge   time.Duration
	Consents oauth2server.ConsentModel
	// ConsentLifetime is how long a saved consent lasts; zero is for
	// ever, negative an error.
	ConsentLifetime time.Duration
}

// Hooks are the application's parts of one request. The Echo layer makes
// them per request, closing over the echo.Context; the net/http layer once.
// A nil Session binds forms to no session; a nil LoginRequired, Render or
// RenderError is the built-in page. User is required.
type Hooks struct {
	User    func(r *http.Request) (*oauth2server.User, error)
	Session func(r *http.Request) (string, error)
	// Authentication reports how the user logged in (auth_time, acr,
	// amr); required when the Server is an OpenID Provider.
	Authentication func(r *http.Request) (oauth2server.Authentication, error)
	LoginRequired  func(w http.ResponseWriter, r *http.Request) error
	Render         func(w http.ResponseWriter, r *http.Request, page *oauth2server.ConsentPage) error
	RenderError    func(w http.ResponseWriter, r *http.Request, err *oerrors.Error) error
}

// Endpoint is a checked configuration: the authorization endpoint without
// its hooks.
type Endpoint struct {
	srv             *oauth2server.Server
	name            string
	csrf            *page.CSRF
	maxAge          time.Duration
	consents        oauth2server.ConsentModel
	consentLifetime time.Duration
}

// consentCSRFLabel labels the consent form's tokens; its binding is the
// user, the session and the request. The label and binding are those of
// the tokens before the page package, so that forms rendered by an older
// instance stay valid during a rolling upgrade.
const consentCSRFLabel = "oauth2server consent v2"

// New checks cfg and fills its defaults: a random CSRFKey and
// [DefaultCSRFMaxAge]. cfg.Server must be set.
func New(cfg Config) (*Endpoint, error) {
	if cfg.CSRFKey == nil {
		cfg.CSRFKey = make([]byte, 32)
		if _, err := rand.Read(cfg.CSRFKey); err != nil {
			return nil, err
		}
	} else if len(cfg.CSRFKey) < 32 {
		return nil, stderrors.New(cfg.Name + ": AuthorizeConfig.CSRFKey must be at least 32 bytes")
	}
	if cfg.MaxAge < 0 {
		return nil, stderrors.New(cfg.Name + ": AuthorizeConfig.CSRFMaxAge must not be negative")
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultCSRFMaxAge
	}
	if cfg.ConsentLifetime < 0 {
		return nil, stderrors.New(cfg.Name + ": AuthorizeConfig.ConsentLifetime must not be negative")
	}
	return &Endpoint{srv: cfg.Server, name: cfg.Name, maxAge: cfg.MaxAge, consents: cfg.Consents,
		consentLifetime: cfg.ConsentLifetime,
		csrf:            &page.CSRF{Key: cfg.CSRFKey, MaxAge: cfg.MaxAge, Label: consentCSRFLabel}}, nil
}

// request is one request in flight with its hooks.
type request struct {
	*Endpoint
	w http.ResponseWriter
	r *http.Request
	Hooks
}

// Serve answers one request to the authorization endpoint. It returns only
// what a hook (or a built-in page) returned: the caller hands it to its
// framework.
//
// GET (and HEAD) validates the request and, for a logged-in user, renders
// the consent page. POST validates the same query again, checks the
// consent form's CSRF token, and redirects with 303 to the client with a
// code (or token), or an error. Errors about the client or the redirect URI
// are shown, never redirected.
func (e *Endpoint) Serve(w http.ResponseWriter, r *http.Request, hooks Hooks) error {
	if hooks.LoginRequired == nil {
		hooks.LoginRequired = func(w http.ResponseWriter, r *http.Request) error {
			return RenderErrorPage(w, r, errLoginRequired)
		}
	}
	if hooks.Render == nil {
		hooks.Render = renderConsentPage
	}
	if hooks.RenderError == nil {
		hooks.RenderError = RenderErrorPage
	}
	q := &request{Endpoint: e, w: w, r: r, Hooks: hooks}
	return q.serve()
}

func (q *request) serve() error {
	page.SetHeaders(q.w.Header())
	r := q.r
	redirectStatus := http.StatusFound
	switch r.Method {
	case http.MethodGet, http.MethodHead: // HEAD is GET without the body
	case http.MethodPost:
		redirectStatus = http.StatusSeeOther // RFC 9700 §4.12: never 307
	default:
		q.w.Header().Set("Allow", "GET, HEAD, POST")
		return q.RenderError(q.w, r, errBadMethod)
	}
	// A POST without a query is an authorization request sent as a form
	// (OIDC Core §3.1.2.1), answered as a GET is; a POST with the query
	// of a validated request is the consent form.
	decisionPost := r.Method == http.MethodPost && !oauth2server.IsAuthorizePost(r)

	ar, err := q.srv.ValidateAuthorizeRequest(r)
	var errorURL string
	if err != nil {
		var page *oerrors.Error
		if errorURL, page = q.srv.AuthorizeErrorResponse(r, err); page != nil {
			return q.RenderError(q.w, r, page)
		}
	}
	user, uerr := q.User(r)
	if uerr != nil {
		return q.showError(oerrors.ServerError(uerr))
	}
	if user == nil && (ar == nil || !ar.OpenID.HasPrompt(oauth2server.PromptNone)) {
		// No redirect of any error for an anonymous visitor (RFC 9700
		// §4.11.2), except prompt=none's login_required below.
		return q.login(ar, false)
	}
	if err != nil {
		return q.respond(redirectStatus, errorURL, oauth2server.ResponseModeOf(nil, err))
	}
	var auth oauth2server.Authentication
	if user != nil && q.Authentication != nil {
		if auth, err = q.Authentication(r); err != nil {
			return q.showError(oerrors.ServerError(err))
		}
	}
	if !decisionPost {
		// The login must satisfy the request (prompt, max_age,
		// id_token_hint); a consent form's request was checked when the
		// form was shown, and the form is bound to this user's session.
		need, err := q.srv.CheckLogin(ar, user, auth)
		if err != nil {
			return q.fail(redirectStatus, ar, err)
		}
		if need == oauth2server.InteractionLogin {
			return q.login(ar, user != nil)
		}
	}

	session := ""
	if q.Session != nil {
		if session, err = q.Session(r); err != nil {
			return q.showError(oerrors.ServerError(err))
		}
	}
	// The consent form posts back to the request's canonical query, to
	// which its CSRF token is bound; a pushed request's is its client_id
	// and request_uri, consumed by the decision.
	canonical := ar.Query()
	if !decisionPost {
		if handled, err := q.rememberedConsent(ar, user, auth); handled {
			return err
		}
		if err := ar.ConsentRequired(); err != nil {
			return q.fail(redirectStatus, ar, err) // prompt=none: no page
		}
		return q.Render(q.w, r, &oauth2server.ConsentPage{
			Request:   ar,
			User:      user,
			Action:    "?" + canonical,
			CSRFToken: q.csrf.Token(q.now(), user.ID, session, canonical),
		})
	}

	d, claimed, err := q.readDecision(user, session, canonical)
	if err != nil {
		return q.showError(err)
	}
	d.Authentication = auth
	target, err := q.srv.Authorize(r.Context(), ar, user, d)
	if err != nil {
		if oerrors.IsServerError(err) {
			// Our fault, not the form's: the user may post it again.
			_ = q.srv.ReleaseClaim(r.Context(), consentPurpose, claimed, q.maxAge+page.CSRFSkew)
		}
		return q.fail(redirectStatus, ar, err)
	}
	q.rememberConsent(ar, user, d)
	return q.respond(redirectStatus, target, ar.ResponseMode)
}

// respond sends the response to the client: a redirect, or with form_post
// a page that posts it.
func (q *request) respond(status int, target, mode string) error {
	oauth2server.AuthorizeResponse(q.w, status, target, mode)
	return nil
}

// fail answers err of a validated request: redirected to the client, or
// shown when it cannot be.
func (q *request) fail(status int, ar *oauth2server.AuthorizeRequest, err error) error {
	errURL, page := q.srv.AuthorizeErrorResponse(q.r, err)
	if page != nil {
		return q.RenderError(q.w, q.r, page)
	}
	return q.respond(status, errURL, ar.ResponseMode)
}

// login hands the request to the LoginRequired hook, with a LoginPrompt in
// its context and, for a valid request, the URL to come back to as the
// request's URL: the request's query without what the login satisfies,
// also when the request came as a form POST.
func (q *request) login(ar *oauth2server.AuthorizeRequest, reauth bool) error {
	r := q.r
	p := &oauth2server.LoginPrompt{Request: ar, Reauthenticate: reauth, ReturnTo: r.URL.RequestURI()}
	if ar != nil && ar.OpenID != nil {
		p.LoginHint = ar.OpenID.LoginHint
	}
	if ar != nil && (oauth2server.IsAuthorizePost(r) || ar.LoginSatisfies() || ar.RequestURI != "") {
		// The way back is the request's URL as sent, unless the request
		// came as a form (it has no URL query), asks for a login that
		// this one satisfies (prompt=login, select_account, max_age=0),
		// which coming back must not ask for again, or was pushed (RFC
		// 9126): then it is its client_id and request_uri only, which
		// the login after the push satisfies.
		u := *r.URL
		u.RawQuery = ar.LoginReturnQuery()
		p.ReturnTo = u.RequestURI()
		r = r.Clone(r.Context())
		r.URL = &u
	}
	r = r.WithContext(oauth2server.ContextWithLoginPrompt(r.Context(), p))
	return q.LoginRequired(q.w, r)
}

// showError logs server faults and shows err on the error page.
func (q *request) showError(err error) error {
	_, page := q.srv.AuthorizeErrorResponse(q.r, oerrors.From(err))
	return q.RenderError(q.w, q.r, page)
}

func (e *Endpoint) now() time.Time { return e.srv.Options().Now() }

// readDecision parses the consent form body. The form is ours, not an OAuth
// request, so FieldScope may repeat; the decision and token may not.
func (q *request) readDecision(user *oauth2server.User, session, canonical string) (d oauth2server.Decision, claimed string, err error) {
	r := q.r
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" || r.Body == nil {
		return d, "", errBadDecision
	}
	body, err := io.ReadAll(http.MaxBytesReader(q.w, r.Body, q.srv.Options().MaxBodyBytes))
	if err != nil {
		return d, "", errBadDecision
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return d, "", errBadDecision
	}
	if len(vals[FieldCSRFToken]) != 1 || !q.csrf.Check(vals[FieldCSRFToken][0], q.now(), user.ID, session, canonical) {
		return d, "", errBadConsentForm
	}

	if len(vals[FieldDecision]) != 1 {
		return d, "", errBadDecision
	}
	switch vals[FieldDecision][0] {
	case DecisionApprove:
		d.Approved = true
		if scopes, ok := vals[FieldScope]; ok {
			d.Scope = []string{}
			for _, s := range scopes {
				d.Scope = append(d.Scope, strings.Fields(s)...)
			}
		}
	case DecisionDeny:
	default:
		return d, "", errBadDecision
	}
	// Single use: of any number of posts of one form, on any instance,
	// one gets through (a double click or a replay issues no second code).
	first, err := q.srv.ClaimOnce(r.Context(), consentPurpose, vals[FieldCSRFToken][0], q.maxAge+page.CSRFSkew)
	if err != nil {
		return d, "", err
	}
	if !first {
		return d, "", errBadConsentForm
	}
	return d, vals[FieldCSRFToken][0], nil
}
