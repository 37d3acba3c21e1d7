package nethttp

import (
	stderrors "errors"
	"net/http"
	"time"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/authorize"
)

// Form fields of the consent form POST. A custom consent page must send
// them to the [ConsentPage.Action] URL. They equal those of package
// handlers, so that one consent template serves both.
const (
	// FieldDecision, "decision", carries [DecisionApprove] or
	// [DecisionDeny].
	FieldDecision = authorize.FieldDecision
	// FieldCSRFToken, "csrf_token", carries [ConsentPage.CSRFToken].
	FieldCSRFToken = authorize.FieldCSRFToken
	// FieldScope, "scope", carries granted scopes. It may repeat (one
	// checkbox per scope) and each value may hold several space-separated
	// scopes. When the field is absent the whole scope of the request is
	// granted; a page with checkboxes must therefore also send one empty
	// FieldScope value, so that unticking every box grants nothing (a
	// denial).
	FieldScope = authorize.FieldScope

	// DecisionApprove, "approve", approves the request.
	DecisionApprove = authorize.DecisionApprove
	// DecisionDeny, "deny", denies the request; the client receives
	// access_denied.
	DecisionDeny = authorize.DecisionDeny
)

// DefaultCSRFMaxAge, 30 minutes, is how long a consent form stays valid by
// default:
// long enough to read the page, short enough that a form left in a tab
// cannot be posted the next day. It equals handlers.DefaultCSRFMaxAge.
const DefaultCSRFMaxAge = authorize.DefaultCSRFMaxAge

// ConsentPage is what [AuthorizeConfig.Render] renders. It is the root
// package's type, the one package handlers renders too, so that an
// application moving between the two keeps its templates.
type ConsentPage = oauth2server.ConsentPage

// AuthorizeConfig configures the authorization endpoint handler (see
// [AuthorizeWithConfig]). It has the fields of handlers.AuthorizeConfig,
// with hooks that take the request instead of an echo.Context. Server and
// UserFromRequest are required.
type AuthorizeConfig struct {
	// Server validates the requests and issues the codes (and, with the
	// implicit grant, the tokens). Required.
	Server *oauth2server.Server

	// UserFromRequest returns the logged-in user of the request, or nil
	// when nobody is logged in (node's authenticateHandler). Required: only
	// the application knows its sessions. An error is a server fault: it
	// is logged and the user sees an error page.
	UserFromRequest func(r *http.Request) (*oauth2server.User, error)

	// SessionFromRequest returns an identifier of the request's login
	// session, or "" when there is none: a value that changes at every
	// login and ends at logout, e.g. a digest of the session id. Optional.
	// When set, consent forms are bound to the session, so that a form
	// rendered in one session is refused in every other, the same user's
	// next session after a logout included (RFC 6749 §10.12). Default nil:
	// forms are bound to the user and the request only. An error is a
	// server fault.
	SessionFromRequest func(r *http.Request) (string, error)

	// AuthenticationFromRequest reports how the logged-in user of the
	// request authenticated: when (auth_time), with what assurance (acr)
	// and methods (amr). Required when the Server is an OpenID Provider
	// ([oauth2server.Options.OpenID]): max_age and prompt=login are judged
	// by its Time, which must be the last time the user actively logged in,
	// not the last request of the session. Ignored otherwise. An
	// error is a server fault.
	AuthenticationFromRequest func(r *http.Request) (oauth2server.Authentication, error)

	// LoginRequired answers a request without a logged-in user, typically
	// by redirecting to a login page that comes back to the request's URL
	// afterwards (see [RedirectToLogin]). It runs before any error is
	// redirected to the client, so that the endpoint never redirects for
	// an unauthenticated visitor (RFC 9700 §4.11.2). Optional. Default: a
	// 401 page asking the user to log in.
	LoginRequired func(w http.ResponseWriter, r *http.Request)

	// Render renders the consent page for a valid request. The page must
	// POST the fields of [FieldDecision], [FieldCSRFToken] and optionally
	// [FieldScope] to page.Action, and must not load third-party resources
	// (RFC 9700 §4.2.4): the page's URL carries the request. Optional.
	// Default: a minimal built-in html/template page listing the requested
	// scopes with Approve and Deny buttons.
	//
	// net/http has no error handler to return an error to, so the handler
	// stands in for one: an error is logged as a server fault and, if
	// Render wrote nothing yet, answered with the built-in server_error
	// page. Render the template into a buffer first to get that page
	// instead of half a page. To tell whether it wrote, the handler passes
	// its own wrapper of the ResponseWriter to the hooks: reach Flush and
	// the like through http.NewResponseController(w), not a type
	// assertion.
	Render func(w http.ResponseWriter, r *http.Request, page *ConsentPage) error

	// RenderError renders an error that must be shown to the user rather
	// than redirected: an unknown client, a bad redirect URI, an expired
	// consent form (RFC 6749 §4.1.2.1). Use html/template: the description
	// may quote the request. An error it returns is handled as Render's.
	// Optional. Default: a minimal built-in page.
	RenderError func(w http.ResponseWriter, r *http.Request, err *oerrors.Error) error

	// CSRFKey is the HMAC-SHA256 key of consent form tokens, at least 32
	// bytes. Optional. Default: 32 random bytes per handler, which is right
	// for one instance; set a shared secret when several instances serve
	// the endpoint, so that a form rendered by one is accepted by another.
	// SECURITY: keep it secret; whoever knows it can forge a user's
	// consent.
	CSRFKey []byte

	// CSRFMaxAge is how long a rendered consent form can be submitted.
	// Optional. Default [DefaultCSRFMaxAge]; negative is an error. A form
	// is single use: its token is spent when it is posted
	// ([oauth2server.Server.ClaimOnce], kept in the model's CounterModel,
	// so every instance sees it), so a second post of the same approval
	// issues no second code.
	CSRFMaxAge time.Duration

	// Consents remembers what users approved (usually the model, when it
	// implements [oauth2server.ConsentModel]). Optional. When set, every
	// approval is saved, and a GET whose user already approved the client
	// for every scope of the request redirects with a code without showing
	// the consent page, but only when the client's identity is assured: a
	// confidential client, or a public client with an https redirect URI it
	// registered verbatim, since anyone can claim a loopback or custom
	// scheme redirect (RFC 6749 §10.2, RFC 8252 §8.6). Default nil: the
	// consent page is shown every time.
	Consents oauth2server.ConsentModel

	// ConsentLifetime is how long a remembered consent lasts: an approval
	// saved in Consents expires this long after it was given (or last
	// widened), and the next request of the client shows the consent page
	// again. Optional. Default 0: a remembered consent lasts until it is
	// revoked, as before consents could expire; negative is an error.
	// Expired consents are absent at once; the model's sweep or TTL index
	// deletes them later (docs/grant-management.md).
	ConsentLifetime time.Duration
}

// AuthorizeWithConfig returns the handler of the authorization endpoint
// (RFC 6749 §3.1), the net/http twin of handlers.AuthorizeWithConfig with
// the same answers. Mount it for every method, so that a method other than
// GET, HEAD and POST gets the endpoint's own 405 page with Allow and the
// page headers rather than the mux's bare one:
//
//	authz := nethttp.AuthorizeWithConfig(nethttp.AuthorizeConfig{Server: srv, UserFromRequest: currentUser})
//	mux.Handle("/oauth/authorize", authz)
//
// GET (and HEAD) validates the request and, for a logged-in user, renders
// the consent page. POST validates the same query again, since the form's
// fields cannot be trusted for the client or the redirect URI, checks the
// consent form's CSRF token, and redirects with 303 (never 307, which
// would repeat the POST at the client; RFC 9700 §4.12) to the client with
// a code (or token), or an error. Errors about the client or the redirect
// URI are shown, never redirected, so that the endpoint is no open
// redirector (RFC 6749 §4.1.2.1). Every response carries X-Frame-Options:
// DENY, Content-Security-Policy: frame-ancestors 'none', Referrer-Policy:
// no-referrer and Cache-Control: no-store, and never CORS headers, even if
// a CORS middleware set them (RFC 9700 §2.6, §4.16).
//
// There is no Authorize(srv) with a default configuration, as there is
// [Token]: only the application knows who is logged in, so
// [AuthorizeConfig.UserFromRequest] has no default.
//
// AuthorizeWithConfig panics when cfg is invalid (no Server or
// UserFromRequest, a short CSRFKey, a negative CSRFMaxAge or
// ConsentLifetime), as a startup programming error;
// [AuthorizeConfig.ToHandler] returns the error instead.
func AuthorizeWithConfig(cfg AuthorizeConfig) http.Handler {
	h, err := cfg.ToHandler()
	if err != nil {
		panic(err)
	}
	return h
}

// ToHandler returns the authorization endpoint handler (see
// [AuthorizeWithConfig]), or an error when the configuration is invalid.
func (cfg AuthorizeConfig) ToHandler() (http.Handler, error) {
	if cfg.Server == nil {
		return nil, stderrors.New("nethttp: AuthorizeConfig.Server is required")
	}
	if cfg.UserFromRequest == nil {
		return nil, stderrors.New("nethttp: AuthorizeConfig.UserFromRequest is required")
	}
	if cfg.Server.OpenIDEnabled() && cfg.AuthenticationFromRequest == nil {
		return nil, stderrors.New("nethttp: AuthorizeConfig.AuthenticationFromRequest is required for OpenID Connect (auth_time)")
	}
	ep, err := authorize.New(authorize.Config{Name: "nethttp", Server: cfg.Server, CSRFKey: cfg.CSRFKey,
		MaxAge: cfg.CSRFMaxAge, Consents: cfg.Consents, ConsentLifetime: cfg.ConsentLifetime})
	if err != nil {
		return nil, err
	}
	h := &authorizeHandler{ep: ep, srv: cfg.Server, hooks: authorize.Hooks{
		User:           cfg.UserFromRequest,
		Session:        cfg.SessionFromRequest,
		Authentication: cfg.AuthenticationFromRequest,
		Render:         cfg.Render,
		RenderError:    cfg.RenderError,
	}}
	if cfg.LoginRequired != nil {
		login := cfg.LoginRequired
		h.hooks.LoginRequired = func(w http.ResponseWriter, r *http.Request) error {
			login(w, r)
			return nil
		}
	}
	return h, nil
}

type authorizeHandler struct {
	ep    *authorize.Endpoint
	srv   *oauth2server.Server
	hooks authorize.Hooks
}

func (h *authorizeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := &trackingWriter{ResponseWriter: w}
	if err := h.ep.Serve(tw, r, h.hooks); err != nil {
		// Where Echo's HTTPErrorHandler would take over: log the fault
		// and, unless the hook already answered, show it.
		_, page := h.srv.AuthorizeErrorResponse(r, oerrors.ServerError(err))
		if !tw.wrote {
			_ = authorize.RenderErrorPage(tw, r, page)
		}
	}
}

// trackingWriter records whether the response was started, so that a
// hook's error is answered only when the hook wrote nothing. Unwrap lets
// http.ResponseController reach the writer's other methods (Flush, ...).
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *trackingWriter) WriteHeader(status int) {
	if status >= http.StatusOK { // 1xx answers are not the response
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// RedirectToLogin returns an [AuthorizeConfig.LoginRequired] hook that
// redirects to loginURL with the authorization request's URL in the
// return_to parameter, so that the user comes back to the same request
// after logging in and sees its consent page: 302 after GET, 303 after
// POST, so that the way back is a GET that shows the page again, never a
// repeated decision. The login page must check that return_to is a path on
// its own site before redirecting there after login, or it becomes an open
// redirector.
func RedirectToLogin(loginURL string) func(w http.ResponseWriter, r *http.Request) {
	redirect := authorize.RedirectToLogin(loginURL)
	return func(w http.ResponseWriter, r *http.Request) { _ = redirect(w, r) }
}
