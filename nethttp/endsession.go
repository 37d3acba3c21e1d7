package nethttp

import (
	stderrors "errors"
	"net/http"
	"time"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/endsession"
)

// FieldLogoutCSRFToken, "csrf_token", is the field of the logout
// confirmation form that carries its CSRF token; it is among
// [LogoutPage.Fields]. It equals handlers.FieldLogoutCSRFToken.
const FieldLogoutCSRFToken = endsession.FieldCSRFToken

// LogoutPage is what [EndSessionConfig.Confirm] renders: a form that POSTs
// its Fields, hidden, to its Action, with a button that confirms the
// logout. Its Request is the validated logout request, whose Client is a
// mere claim of the sender when Request.HintValid is false; User is the
// logged-in user, nil without [EndSessionConfig.UserFromRequest]. It is
// the type handlers.LogoutPage names too, so one template serves both.
type LogoutPage = oauth2server.LogoutPage

// LogoutField is a hidden field of a [LogoutPage].
type LogoutField = oauth2server.LogoutField

// EndSessionConfig configures the end session endpoint handler (see
// [EndSessionWithConfig]). It has the fields of handlers.EndSessionConfig,
// with hooks that take the request instead of an echo.Context. Server and
// Logout are required.
type EndSessionConfig struct {
	// Server validates the logout requests. It must be an OpenID Provider
	// ([oauth2server.Options.OpenID]). Required.
	Server *oauth2server.Server

	// Logout ends the application's login session of the request, e.g. by
	// deleting its session and clearing its cookie on w. It must not write
	// a body: the endpoint answers afterwards. req says who asked
	// (req.Client, nil when unknown) and for whom (req.Subject, with a
	// valid hint). Required. An error is a server fault: it is logged and
	// the user sees an error page.
	Logout func(w http.ResponseWriter, r *http.Request, req *oauth2server.EndSessionRequest) error

	// UserFromRequest returns the logged-in user of the request, or nil
	// (the same function as [AuthorizeConfig.UserFromRequest]). Optional.
	// When set, a request whose valid id_token_hint names another user
	// than the logged-in one is confirmed by the user before anything
	// happens, a request without a logged-in user logs out without asking
	// (there is no session to protect), and the confirmation form is bound
	// to the user. Default nil: a valid hint is trusted to name the
	// session's user. An error is a server fault.
	UserFromRequest func(r *http.Request) (*oauth2server.User, error)

	// SessionFromRequest returns an identifier of the request's login
	// session, as [AuthorizeConfig.SessionFromRequest]. Optional. When set,
	// the confirmation form is bound to the session. An error is a server
	// fault.
	SessionFromRequest func(r *http.Request) (string, error)

	// Confirm renders the page that asks the user to confirm a logout that
	// the request alone does not justify. The page must POST every
	// field of page.Fields to page.Action. An error is handled as
	// [AuthorizeConfig.Render]'s. Optional. Default: a minimal built-in
	// html/template page with a Log out button.
	Confirm func(w http.ResponseWriter, r *http.Request, page *LogoutPage) error

	// LoggedOut renders the page shown after a logout without a
	// post_logout_redirect_uri. An error is handled as Confirm's.
	// Optional. Default: a minimal built-in page.
	LoggedOut func(w http.ResponseWriter, r *http.Request, req *oauth2server.EndSessionRequest) error

	// RenderError renders an invalid logout request (an id_token_hint not
	// signed here, an unregistered post_logout_redirect_uri, an expired
	// confirmation form, ...), which is shown and never redirected.
	// Use html/template. An error is handled as Confirm's. Optional.
	// Default: a minimal built-in page.
	RenderError func(w http.ResponseWriter, r *http.Request, err *oerrors.Error) error

	// CSRFKey is the HMAC-SHA256 key of the confirmation form's tokens, at
	// least 32 bytes. Optional. Default: 32 random bytes per handler; set a
	// shared secret when several instances serve the endpoint. SECURITY:
	// keep it secret; whoever knows it can log users out.
	CSRFKey []byte

	// CSRFMaxAge is how long a confirmation form can be submitted.
	// Optional. Default 30 minutes; negative is an error.
	CSRFMaxAge time.Duration
}

// EndSessionWithConfig returns the handler of the end session endpoint
// (OpenID Connect RP-Initiated Logout 1.0 §2), the net/http twin of
// handlers.EndSessionWithConfig with the same answers. Mount it for every
// method, so that another method gets the endpoint's own 405 page:
//
//	mux.Handle("/end_session", nethttp.EndSessionWithConfig(nethttp.EndSessionConfig{
//		Server: srv,
//		Logout: func(w http.ResponseWriter, r *http.Request, _ *oauth2server.EndSessionRequest) error {
//			return sessions.End(w, r)
//		},
//	}))
//
// A GET or POST logout request ([oauth2server.Server.ValidateEndSession])
// with a valid id_token_hint of the logged-in user logs out at once (the
// Logout hook) and redirects to the client's registered
// post_logout_redirect_uri with state (302 after GET, 303 after POST), or
// shows the logged-out page. Any other request asks the user first
// the confirmation page posts the request again with a CSRF
// token, and only that POST logs out. An invalid request is shown on the
// error page, never redirected. Every answer carries the headers of
// the authorization endpoint: no framing, no referrer, no-store, no CORS.
//
// EndSessionWithConfig panics when cfg is invalid (no Server, a Server
// that is not an OpenID Provider, no Logout, a short CSRFKey);
// [EndSessionConfig.ToHandler] returns the error instead.
func EndSessionWithConfig(cfg EndSessionConfig) http.Handler {
	h, err := cfg.ToHandler()
	if err != nil {
		panic(err)
	}
	return h
}

// ToHandler returns the end session handler (see [EndSessionWithConfig]),
// or an error when the configuration is invalid.
func (cfg EndSessionConfig) ToHandler() (http.Handler, error) {
	if cfg.Server == nil {
		return nil, stderrors.New("nethttp: EndSessionConfig.Server is required")
	}
	if cfg.Logout == nil {
		return nil, stderrors.New("nethttp: EndSessionConfig.Logout is required")
	}
	ep, err := endsession.New(endsession.Config{Name: "nethttp", Server: cfg.Server, CSRFKey: cfg.CSRFKey,
		MaxAge: cfg.CSRFMaxAge})
	if err != nil {
		return nil, err
	}
	return &endSessionHandler{ep: ep, srv: cfg.Server, hooks: endsession.Hooks{
		Logout:      cfg.Logout,
		User:        cfg.UserFromRequest,
		Session:     cfg.SessionFromRequest,
		Confirm:     cfg.Confirm,
		LoggedOut:   cfg.LoggedOut,
		RenderError: cfg.RenderError,
	}}, nil
}

type endSessionHandler struct {
	ep    *endsession.Endpoint
	srv   *oauth2server.Server
	hooks endsession.Hooks
}

func (h *endSessionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := &trackingWriter{ResponseWriter: w}
	if err := h.ep.Serve(tw, r, h.hooks); err != nil {
		// Where Echo's HTTPErrorHandler would take over: log the fault
		// and, unless the page hook already answered, show it.
		e := oerrors.ServerError(err)
		h.srv.Logger().ErrorContext(r.Context(), "nethttp: logout page failed",
			"method", r.Method, "path", r.URL.Path, "error", err)
		if !tw.wrote {
			_ = endsession.RenderErrorPage(tw, r, e)
		}
	}
}
