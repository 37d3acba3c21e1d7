// Package endsession holds the end session endpoint of OpenID Connect
// RP-Initiated Logout 1.0 that packages handlers and nethttp serve: the
// validation of the request ([oauth2server.Server.ValidateEndSession]),
// the confirmation the user gives when the request does not prove who
// sent it, the CSRF token of the confirmation form, the logout through the
// application's hook, the redirect to the relying party or the logged-out
// page, the error page, and the page headers of the authorization
// endpoint. The application's hooks come in as closures, as in
// internal/authorize.
package endsession

import (
	"bytes"
	"crypto/rand"
	stderrors "errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/form"
	"github.com/echo-oauth2/oauth2server/internal/page"
)

// FieldCSRFToken is the confirmation form's field that carries its CSRF
// token.
const FieldCSRFToken = "csrf_token"

// DefaultCSRFMaxAge is how long a confirmation form stays valid by
// default.
const DefaultCSRFMaxAge = 30 * time.Minute

// Params are the parameters of a logout request (RP-Initiated Logout §2)
// that the confirmation form posts again, so that the confirmed request is
// validated from scratch like the first.
var Params = []string{"id_token_hint", "client_id", "post_logout_redirect_uri", "state", "logout_hint", "ui_locales"}

// csrfLabel labels the confirmation form's tokens; their binding is the
// user, the session and the request's parameters.
const csrfLabel = "oauth2server logout v1"

var errBadForm = oerrors.ErrInvalidRequest.WithStatus(http.StatusForbidden).
	WithDescription("The logout form is invalid or expired. Go back to the application and try again.")

// Page is what the confirmation page renders: a form that POSTs Fields,
// hidden, to Action, with a button that confirms the logout.
type Page = oauth2server.LogoutPage

// Field is a hidden form field.
type Field = oauth2server.LogoutField

// Config is the framework-neutral part of an endpoint's configuration. The
// caller checks its own required fields (Server, its Logout hook) first.
type Config struct {
	// Name prefixes the configuration errors and log messages, e.g.
	// "handlers".
	Name    string
	Server  *oauth2server.Server
	CSRFKey []byte
	MaxAge  time.Duration
}

// Hooks are the application's parts of one request. Logout is required; a
// nil User or Session binds forms to no user or session; a nil Confirm,
// LoggedOut or RenderError is the built-in page.
type Hooks struct {
	Logout      func(w http.ResponseWriter, r *http.Request, req *oauth2server.EndSessionRequest) error
	User        func(r *http.Request) (*oauth2server.User, error)
	Session     func(r *http.Request) (string, error)
	Confirm     func(w http.ResponseWriter, r *http.Request, p *Page) error
	LoggedOut   func(w http.ResponseWriter, r *http.Request, req *oauth2server.EndSessionRequest) error
	RenderError func(w http.ResponseWriter, r *http.Request, err *oerrors.Error) error
}

// Endpoint is a checked configuration: the end session endpoint without
// its hooks.
type Endpoint struct {
	srv  *oauth2server.Server
	name string
	csrf *page.CSRF
}

// New checks cfg and fills its defaults: a random CSRFKey and
// [DefaultCSRFMaxAge]. cfg.Server must be set.
func New(cfg Config) (*Endpoint, error) {
	if !cfg.Server.OpenIDEnabled() {
		return nil, stderrors.New(cfg.Name + ": the end session endpoint needs an OpenID Provider (Options.OpenID)")
	}
	if cfg.CSRFKey == nil {
		cfg.CSRFKey = make([]byte, 32)
		if _, err := rand.Read(cfg.CSRFKey); err != nil {
			return nil, err
		}
	} else if len(cfg.CSRFKey) < 32 {
		return nil, stderrors.New(cfg.Name + ": EndSessionConfig.CSRFKey must be at least 32 bytes")
	}
	switch {
	case cfg.MaxAge < 0:
		return nil, stderrors.New(cfg.Name + ": EndSessionConfig.CSRFMaxAge must not be negative")
	case cfg.MaxAge == 0:
		cfg.MaxAge = DefaultCSRFMaxAge
	}
	return &Endpoint{srv: cfg.Server, name: cfg.Name,
		csrf: &page.CSRF{Key: cfg.CSRFKey, MaxAge: cfg.MaxAge, Label: csrfLabel}}, nil
}

// Serve answers one request to the end session endpoint. It returns only
// what a page hook (or a built-in page) returned: the caller hands it to
// its framework.
//
// A GET or POST logout request is validated; an invalid one is shown on
// the error page, never redirected. A request with a valid
// id_token_hint for the logged-in user logs out at once; any other asks
// the user first, with a form that posts the request again with a
// CSRF token, and that post logs out. After the logout the user goes to
// the relying party's post_logout_redirect_uri with state (302 after GET,
// 303 after POST) or sees the logged-out page.
func (e *Endpoint) Serve(w http.ResponseWriter, r *http.Request, hooks Hooks) error {
	if hooks.Confirm == nil {
		hooks.Confirm = renderConfirmPage
	}
	if hooks.LoggedOut == nil {
		hooks.LoggedOut = renderLoggedOutPage
	}
	if hooks.RenderError == nil {
		hooks.RenderError = RenderErrorPage
	}
	q := &request{Endpoint: e, w: w, r: r, Hooks: hooks}
	return q.serve()
}

// request is one request in flight with its hooks.
type request struct {
	*Endpoint
	w http.ResponseWriter
	r *http.Request
	Hooks
}

func (q *request) serve() error {
	page.SetHeaders(q.w.Header())
	r := q.r
	var body []byte
	if r.Method == http.MethodPost {
		// Read once: the Server validates the body, and the confirmation
		// form needs the request's own parameters.
		var err error
		if body, err = form.ReadBody(q.w, r, q.srv.Options().MaxBodyBytes); err != nil {
			return q.showError(err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	req, err := q.srv.ValidateEndSession(r)
	if err != nil {
		if oerrors.From(err).Status == http.StatusMethodNotAllowed {
			q.w.Header().Set("Allow", "GET, HEAD, POST")
		}
		return q.showError(err)
	}
	var raw form.Params
	if r.Method == http.MethodPost {
		raw, err = form.Parse(string(body))
	} else {
		raw, err = form.Query(r)
	}
	if err != nil {
		return q.showError(err) // validated above: not expected
	}

	var user *oauth2server.User
	if q.User != nil {
		if user, err = q.User(r); err != nil {
			return q.showError(oerrors.ServerError(err))
		}
	}
	session := ""
	if q.Session != nil {
		if session, err = q.Session(r); err != nil {
			return q.showError(oerrors.ServerError(err))
		}
	}
	userID := ""
	if user != nil {
		userID = user.ID
	}
	params := requestParams(raw)
	canonical := params.Encode()

	if token := raw[FieldCSRFToken]; r.Method == http.MethodPost && token != "" {
		// The confirmation form: the user asked for this logout.
		if !q.csrf.Check(token, q.now(), userID, session, canonical) {
			return q.showError(errBadForm)
		}
		return q.logout(req)
	}
	confirm, err := q.mustConfirm(req, user)
	if err != nil {
		return q.showError(err)
	}
	if !confirm {
		return q.logout(req)
	}
	p := &Page{Request: req, User: user, Action: r.URL.EscapedPath()}
	for _, k := range Params {
		if v := params.Get(k); v != "" {
			p.Fields = append(p.Fields, Field{Name: k, Value: v})
		}
	}
	p.Fields = append(p.Fields, Field{Name: FieldCSRFToken, Value: q.csrf.Token(q.now(), userID, session, canonical)})
	return q.Confirm(q.w, r, p)
}

// mustConfirm reports whether the user must confirm the logout: a HEAD
// (which must not change anything), a request without a valid
// id_token_hint, for anyone logged in, and a hint of another user
// than the logged-in one. With UserFromRequest, a request without a
// logged-in user has no session to end and is not asked about.
func (q *request) mustConfirm(req *oauth2server.EndSessionRequest, user *oauth2server.User) (bool, error) {
	switch {
	case q.r.Method == http.MethodHead:
		return true, nil
	case q.User != nil && user == nil:
		return false, nil
	case !req.HintValid:
		return true, nil
	case user == nil:
		return false, nil // no UserFromRequest: the hint decides
	}
	sub := user.ID
	if req.Client != nil {
		var err error
		if sub, err = q.srv.Subject(req.Client, user.ID); err != nil {
			return false, oerrors.ServerError(err)
		}
	}
	return sub != req.Subject, nil
}

// logout ends the session with the Logout hook, then redirects to the
// relying party or shows the logged-out page.
func (q *request) logout(req *oauth2server.EndSessionRequest) error {
	if err := q.Logout(q.w, q.r, req); err != nil {
		return q.showError(oerrors.ServerError(err))
	}
	if target := req.RedirectURL(); target != "" {
		page.Redirect(q.w, page.RedirectStatus(q.r), target)
		return nil
	}
	return q.LoggedOut(q.w, q.r, req)
}

// showError logs server faults and shows err on the error page.
func (q *request) showError(err error) error {
	e := oerrors.From(err)
	if oerrors.IsServerError(e) {
		q.srv.Logger().ErrorContext(q.r.Context(), q.name+": logout request failed",
			"method", q.r.Method, "path", q.r.URL.Path, "error", e.Unwrap())
	}
	return q.RenderError(q.w, q.r, e)
}

func (e *Endpoint) now() time.Time { return e.srv.Options().Now() }

// requestParams returns the logout request's own parameters of raw.
func requestParams(raw form.Params) url.Values {
	v := make(url.Values, len(Params))
	for k, val := range raw {
		if slices.Contains(Params, k) {
			v.Set(k, val)
		}
	}
	return v
}
