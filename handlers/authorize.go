package handlers

import (
	stderrors "errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/authorize"
)

// Form fields of the consent form POST. A custom consent page must send
// them to the [ConsentPage.Action] URL.
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

// DefaultCSRFMaxAge, 30 minutes, is how long a consent form stays valid
// by default.
const DefaultCSRFMaxAge = authorize.DefaultCSRFMaxAge

// AuthorizeConfig configures the authorization endpoint handler (see
// [AuthorizeWithConfig]). Server and UserFromRequest are required.
type AuthorizeConfig struct {
	// Server validates the requests and issues the codes (and, with the
	// implicit grant, the tokens). Required.
	Server *oauth2server.Server

	// UserFromRequest returns the logged-in user of the request, or nil
	// when nobody is logged in (node's authenticateHandler). Required. An
	// error is a server fault: it is logged and the user sees an error page.
	UserFromRequest func(c echo.Context) (*oauth2server.User, error)

	// SessionFromRequest returns an identifier of the request's login
	// session, or "" when there is none: a value that changes at every
	// login and ends at logout, e.g. a digest of the session id. Optional. When set, consent forms are bound
	// to the session: a form rendered in one session is refused in every
	// other, the same user's next session after a logout included (RFC
	// 6749 §10.12, R-42). Default nil: forms are bound to the user and the
	// request only. An error is a server fault.
	SessionFromRequest func(c echo.Context) (string, error)

	// AuthenticationFromRequest reports how the logged-in user of the
	// request authenticated: when (auth_time), with what assurance (acr)
	// and methods (amr). Required when the Server is an OpenID Provider
	// ([oauth2server.Options.OpenID]): max_age and prompt=login are judged
	// by its Time, which must be the last time the user actively logged in,
	// not the last request of the session. Ignored otherwise. An
	// error is a server fault.
	AuthenticationFromRequest func(c echo.Context) (oauth2server.Authentication, error)

	// LoginRequired answers a request without a logged-in user, typically
	// by redirecting to a login page that comes back to the request's URL
	// afterwards (see [RedirectToLogin]). It runs before any error is
	// redirected to the client, so that the endpoint never redirects for an
	// unauthenticated visitor (RFC 9700 §4.11.2). Optional. Default: a 401
	// page asking the user to log in.
	LoginRequired func(c echo.Context) error

	// Render renders the consent page for a valid request. The page must
	// POST the fields of [FieldDecision], [FieldCSRFToken] and optionally
	// [FieldScope] to page.Action, and must not load third-party resources
	// (RFC 9700 §4.2.4). Optional. Default: a minimal built-in html/template
	// page listing the requested scopes with Approve and Deny buttons.
	Render func(c echo.Context, page *ConsentPage) error

	// RenderError renders an error that must be shown to the user rather
	// than redirected: an unknown client, a bad redirect URI, an expired
	// consent form (RFC 6749 §4.1.2.1). Use html/template. Optional.
	// Default: a minimal built-in page.
	RenderError func(c echo.Context, err *oerrors.Error) error

	// CSRFKey is the HMAC-SHA256 key of consent form tokens, at least 32
	// bytes. Optional. Default: 32 random bytes per handler, which is right
	// for one instance; set a shared secret when several instances serve
	// the endpoint. SECURITY: keep it secret; whoever knows it can forge a
	// user's consent.
	CSRFKey []byte

	// CSRFMaxAge is how long a rendered consent form can be submitted.
	// Optional. Default [DefaultCSRFMaxAge]; negative is an error. A form is single use: its
	// token is spent when it is posted ([oauth2server.Server.ClaimOnce],
	// kept in the model's CounterModel, so every instance sees it), so a
	// second post of the same approval issues no second code.
	CSRFMaxAge time.Duration

	// Consents remembers what users approved (usually the model, when it
	// implements [oauth2server.ConsentModel]). Optional. When set, every
	// approval is saved, and a GET whose user already approved the client
	// for every scope of the request redirects with a code without showing
	// the consent page, but only when the client's identity is assured: a
	// confidential client, or a public client with an https redirect URI it
	// registered verbatim (RFC 6749 §10.2, RFC 8252 §8.6). Default nil: the
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

// ConsentPage is what [AuthorizeConfig.Render] renders. It is the root
// package's type, so that one template serves this handler and package
// nethttp's alike.
type ConsentPage = oauth2server.ConsentPage

// AuthorizeWithConfig returns the handler of the authorization endpoint
// (RFC 6749 §3.1). Mount it for GET, HEAD and POST:
//
//	authz := handlers.AuthorizeWithConfig(handlers.AuthorizeConfig{Server: srv, UserFromRequest: currentUser})
//	e.Match([]string{http.MethodGet, http.MethodHead, http.MethodPost}, "/oauth/authorize", authz)
//
// GET (and HEAD) validates the request and, for a logged-in user, renders the consent
// page. POST validates the same query again, checks the consent form's CSRF
// token, and redirects with 303 to the client with a code (or token), or an
// error. Errors about the client or the redirect URI are shown, never
// redirected. Every response carries X-Frame-Options: DENY,
// Content-Security-Policy: frame-ancestors 'none', Referrer-Policy:
// no-referrer and Cache-Control: no-store, and never CORS headers (RFC 9700
// §2.6, §4.16).
//
// There is no Authorize(srv) with a default configuration, as there is
// [Token] for the token endpoint: only the application knows who is logged
// in, so [AuthorizeConfig.UserFromRequest] has no default.
//
// AuthorizeWithConfig panics when cfg is invalid (no Server or
// UserFromRequest, a short CSRFKey), as a startup programming error;
// [AuthorizeConfig.ToHandler] returns the error instead.
func AuthorizeWithConfig(cfg AuthorizeConfig) echo.HandlerFunc {
	h, err := cfg.ToHandler()
	if err != nil {
		panic(err)
	}
	return h
}

// ToHandler returns the authorization endpoint handler (see
// [AuthorizeWithConfig]), or an error when the configuration is invalid.
func (cfg AuthorizeConfig) ToHandler() (echo.HandlerFunc, error) {
	if cfg.Server == nil {
		return nil, stderrors.New("handlers: AuthorizeConfig.Server is required")
	}
	if cfg.UserFromRequest == nil {
		return nil, stderrors.New("handlers: AuthorizeConfig.UserFromRequest is required")
	}
	if cfg.Server.OpenIDEnabled() && cfg.AuthenticationFromRequest == nil {
		return nil, stderrors.New("handlers: AuthorizeConfig.AuthenticationFromRequest is required for OpenID Connect (auth_time)")
	}
	ep, err := authorize.New(authorize.Config{Name: "handlers", Server: cfg.Server, CSRFKey: cfg.CSRFKey,
		MaxAge: cfg.CSRFMaxAge, Consents: cfg.Consents, ConsentLifetime: cfg.ConsentLifetime})
	if err != nil {
		return nil, err
	}
	return func(c echo.Context) error {
		return ep.Serve(c.Response(), c.Request(), bindHooks(&cfg, c))
	}, nil
}

// bindHooks binds the configured hooks to the request's context. A hook
// left nil stays nil: the endpoint then uses its built-in page.
func bindHooks(cfg *AuthorizeConfig, c echo.Context) authorize.Hooks {
	h := authorize.Hooks{
		User: func(*http.Request) (*oauth2server.User, error) { return cfg.UserFromRequest(c) },
	}
	if cfg.SessionFromRequest != nil {
		h.Session = func(*http.Request) (string, error) { return cfg.SessionFromRequest(c) }
	}
	if cfg.AuthenticationFromRequest != nil {
		h.Authentication = func(*http.Request) (oauth2server.Authentication, error) {
			return cfg.AuthenticationFromRequest(c)
		}
	}
	if cfg.LoginRequired != nil {
		h.LoginRequired = func(_ http.ResponseWriter, r *http.Request) error {
			// r carries the LoginPrompt and the URL to come back to.
			c.SetRequest(r)
			return cfg.LoginRequired(c)
		}
	}
	if cfg.Render != nil {
		h.Render = func(_ http.ResponseWriter, _ *http.Request, page *ConsentPage) error {
			return cfg.Render(c, page)
		}
	}
	if cfg.RenderError != nil {
		h.RenderError = func(_ http.ResponseWriter, _ *http.Request, err *oerrors.Error) error {
			return cfg.RenderError(c, err)
		}
	}
	return h
}

// RedirectToLogin returns an [AuthorizeConfig.LoginRequired] hook that
// redirects to loginURL with the authorization request's URL in the
// return_to parameter. The login page must check that return_to is a path
// on its own site before redirecting there after login.
func RedirectToLogin(loginURL string) func(c echo.Context) error {
	redirect := authorize.RedirectToLogin(loginURL)
	return func(c echo.Context) error { return redirect(c.Response(), c.Request()) }
}
