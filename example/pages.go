package main

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/echo-oauth2/oauth2server"
	"github.com/labstack/echo/v4"
)

// assets holds the page templates and the stylesheet, compiled into the
// binary so that `go run ./example` works from any directory.
//
//go:embed templates/*.html static/*
var assets embed.FS

// pages renders the HTML pages. html/template escapes every value, so a
// client id, scope or state can never inject markup (RFC 6749 §10.14).
type pages struct {
	byName map[string]*template.Template
}

func loadPages() (*pages, error) {
	names, err := assets.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: make(map[string]*template.Template)}
	for _, n := range names {
		if n.Name() == "layout.html" {
			continue
		}
		t, err := template.ParseFS(assets, "templates/layout.html", "templates/"+n.Name())
		if err != nil {
			return nil, err
		}
		p.byName[n.Name()] = t
	}
	return p, nil
}

func (p *pages) render(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := p.byName[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// errorData is the data of error.html.
type errorData struct {
	Title   string
	Message string
}

// indexData is the data of index.html.
type indexData struct {
	User   string
	CSRF   string
	Demo   *demoRequest
	Issuer string
	OpenID bool
}

// index is the home page. An anonymous visit stores nothing.
func (a *app) index(c echo.Context) error {
	s, err := a.sessions.current(c)
	if err != nil {
		return a.serverError(c, err)
	}
	d := indexData{Demo: a.demo, Issuer: a.issuer, OpenID: a.srv.OpenIDEnabled()}
	if s != nil {
		d.User, d.CSRF = s.username, a.sessions.csrf(s)
	}
	return a.pages.render(c, http.StatusOK, "index.html", d)
}

// loginData is the data of login.html.
type loginData struct {
	CSRF     string
	ReturnTo string
	Username string
	Error    string
	// SignedInAs is the user of the browser's live session, if any.
	SignedInAs string
	// Reauthenticate is set when the application asked the user to enter
	// their password again (prompt=login).
	Reauthenticate bool
}

// maxLoginHint bounds the login_hint prefilled into the form: a hint is a
// username or an email address, never a page of text.
const maxLoginHint = 256

// loginPage shows the login form. It stores nothing: the form's CSRF token
// is bound to a signed cookie.
//
// The authorization endpoint sends the user here with prompt=login when
// the request needs a fresh login although a session is live (prompt=login,
// max_age, OIDC Core §3.1.2.1; R-128): the form asks for the password as
// always, and a successful login starts a new session, whose auth_time is
// now. login_hint prefills the username.
func (a *app) loginPage(c echo.Context) error {
	s, err := a.sessions.current(c)
	if err != nil {
		return a.serverError(c, err)
	}
	d := loginData{
		CSRF: a.sessions.loginForm(c), ReturnTo: localPath(c.QueryParam("return_to")),
		Reauthenticate: c.QueryParam("prompt") == oauth2server.PromptLogin,
	}
	if hint := c.QueryParam("login_hint"); len(hint) <= maxLoginHint {
		d.Username = hint
	}
	if s != nil {
		d.SignedInAs = s.username
		if d.Username == "" && d.Reauthenticate {
			d.Username = s.username
		}
	}
	return a.pages.render(c, http.StatusOK, "login.html", d)
}

// login checks the credentials with the model's GetUser, which compares
// password hashes in constant time, and starts a new session: the first
// server state of a visitor. Failures are throttled per username and per
// address (login_throttle.go).
func (a *app) login(c echo.Context) error {
	csrf := postForm(c, csrfField)
	if !a.sessions.validLoginForm(c, csrf) {
		return a.badCSRF(c)
	}
	returnTo := localPath(postForm(c, "return_to"))
	username := postForm(c, "username")
	if wait, err := a.chargeLogin(c, username); err != nil {
		return a.serverError(c, err)
	} else if wait > 0 {
		return a.loginThrottled(c, loginData{CSRF: csrf, ReturnTo: returnTo, Username: username}, wait)
	}
	user, err := a.users.GetUser(c.Request().Context(), username, postForm(c, "password"))
	if err != nil {
		// A store fault is no wrong password: give the charge back.
		a.loginSucceeded(c, username)
		return a.serverError(c, err)
	}
	if user == nil {
		a.cfg.Logger.DebugContext(c.Request().Context(), "example: login failed",
			"address", a.srv.ClientAddress(c.Request()), "account", a.accountDigest(username))
		a.audit(c, oauth2server.Event{Kind: oauth2server.EventLoginFailed, Username: a.accountDigest(username)})
		return a.pages.render(c, http.StatusUnauthorized, "login.html", loginData{
			CSRF: csrf, ReturnTo: returnTo, Username: username,
			Error: "Invalid username or password.",
		})
	}
	a.loginSucceeded(c, username)
	a.audit(c, oauth2server.Event{Kind: oauth2server.EventLoginSucceeded, UserID: user.ID})
	if err := a.sessions.login(c, user); err != nil {
		return a.serverError(c, err)
	}
	a.sessions.clearLoginCookie(c)
	return c.Redirect(http.StatusSeeOther, returnTo)
}

// logout ends the session. Its forms, consent forms included, are
// worthless afterwards: their tokens are bound to it.
func (a *app) logout(c echo.Context) error {
	s, err := a.sessions.current(c)
	if err != nil {
		return a.serverError(c, err)
	}
	if !a.sessions.validCSRF(s, postForm(c, csrfField)) {
		return a.badCSRF(c)
	}
	if err := a.endSession(c); err != nil {
		return a.serverError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// endSession ends the login session of the request, if there is one, and
// clears its cookie: what logging out does, whoever asked for it (the
// logout form, or a client's RP-initiated logout).
func (a *app) endSession(c echo.Context) error {
	s, err := a.sessions.current(c)
	if s == nil || err != nil {
		return err
	}
	return a.sessions.logout(c, s)
}

// callbackData is the data of callback.html.
type callbackData struct {
	Code, State, Error, ErrorDescription, Issuer string
	// StateOK is set when State is the state of the demo this browser
	// started.
	StateOK bool
	// Result is what redeeming Code gave, when this browser's demo made
	// it.
	Result *demoResult
	// DemoURL starts a demo, offered when this browser did not start the
	// request.
	DemoURL string
}

// callback is the redirect URI of the demo clients: a stand-in for a real
// client application. For the browser that started the demo it does what
// the application would: it redeems the code and verifies the ID token.
func (a *app) callback(c echo.Context) error {
	d := callbackData{
		Code:             c.QueryParam("code"),
		State:            c.QueryParam("state"),
		Error:            c.QueryParam("error"),
		ErrorDescription: c.QueryParam("error_description"),
		Issuer:           c.QueryParam("iss"),
	}
	if s, ok := a.demoStarted(c, d.State); ok && d.Code != "" {
		d.StateOK = true
		// Spent: reloading the page must not redeem the code again, which
		// would revoke the tokens it gave.
		a.setDemoCookie(c, "", -1)
		d.Result = a.redeemDemo(c.Request().Context(), d.Code, s)
	} else if a.demo != nil {
		d.DemoURL = a.demo.URL
	}
	return a.pages.render(c, http.StatusOK, "callback.html", d)
}

func (a *app) badCSRF(c echo.Context) error {
	return a.pages.render(c, http.StatusForbidden, "error.html", errorData{
		Title:   "Form expired",
		Message: "The form was not sent from this site or has expired. Go back, reload the page and try again.",
	})
}

// serverError logs err and shows a page without its text.
func (a *app) serverError(c echo.Context, err error) error {
	a.cfg.Logger.ErrorContext(c.Request().Context(), "example: request failed", "path", c.Path(), "error", err)
	return a.pages.render(c, http.StatusServiceUnavailable, "error.html", errorData{
		Title:   "Something went wrong",
		Message: "The server could not complete the request. Try again later.",
	})
}

// localPath returns p if it is a path on this server, else "/". Only local
// paths are accepted as return_to, so the login page cannot be turned into
// an open redirector.
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return p
}

// postForm returns a field of the POST body. Echo's FormValue would also
// read the URL query, which lets a link smuggle form fields in.
func postForm(c echo.Context, name string) string {
	return c.Request().PostFormValue(name)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// scopeDescriptions are what the consent page says each demo scope allows.
var scopeDescriptions = map[string]string{
	"read":           "Read your data",
	"write":          "Change your data",
	"openid":         "Sign you in with your account",
	"profile":        "See your name and profile",
	"email":          "See your email address",
	"offline_access": "Keep access while you are away",
}

// scopeItem is one line of the consent page.
type scopeItem struct {
	Name, Description string
}

func scopeItems(scope []string) []scopeItem {
	out := make([]scopeItem, 0, len(scope))
	for _, s := range scope {
		out = append(out, scopeItem{Name: s, Description: scopeDescriptions[s]})
	}
	return out
}
