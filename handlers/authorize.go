package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	stderrors "errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// Form fields of the consent form POST. A custom consent page must send
// them to the [ConsentPage.Action] URL.
const (
	// FieldDecision carries [DecisionApprove] or [DecisionDeny].
	FieldDecision = "decision"
	// FieldCSRFToken carries [ConsentPage.CSRFToken].
	FieldCSRFToken = "csrf_token"
	// FieldScope carries granted scopes. It may repeat (one checkbox per
	// scope) and each value may hold several space-separated scopes. When
	// the field is absent the whole scope of the request is granted; a page
	// with checkboxes must therefore also send one empty FieldScope value,
	// so that unticking every box grants nothing (a denial).
	FieldScope = "scope"

	// DecisionApprove approves the request.
	DecisionApprove = "approve"
	// DecisionDeny denies the request; the client receives access_denied.
	DecisionDeny = "deny"
)

// DefaultCSRFMaxAge is how long a consent form stays valid by default.
const DefaultCSRFMaxAge = 30 * time.Minute

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
}

// ConsentPage is what [AuthorizeConfig.Render] renders. It is the root
// package's type, so that one template serves this handler and package
// nethttp's alike.
type ConsentPage = oauth2server.ConsentPage

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
	if cfg.CSRFKey == nil {
		cfg.CSRFKey = make([]byte, 32)
		if _, err := rand.Read(cfg.CSRFKey); err != nil {
			return nil, err
		}
	} else if len(cfg.CSRFKey) < 32 {
		return nil, stderrors.New("handlers: AuthorizeConfig.CSRFKey must be at least 32 bytes")
	}
	if cfg.CSRFMaxAge < 0 {
		return nil, stderrors.New("handlers: AuthorizeConfig.CSRFMaxAge must not be negative")
	}
	if cfg.CSRFMaxAge == 0 {
		cfg.CSRFMaxAge = DefaultCSRFMaxAge
	}
	if cfg.LoginRequired == nil {
		cfg.LoginRequired = func(c echo.Context) error { return renderErrorPage(c, errLoginRequired) }
	}
	if cfg.Render == nil {
		cfg.Render = renderConsentPage
	}
	if cfg.RenderError == nil {
		cfg.RenderError = renderErrorPage
	}
	h := &authorizeHandler{srv: cfg.Server, cfg: cfg}
	return h.serve, nil
}

type authorizeHandler struct {
	srv *oauth2server.Server
	cfg AuthorizeConfig
}

func (h *authorizeHandler) serve(c echo.Context) error {
	setPageHeaders(c.Response().Header())
	r := c.Request()
	redirectStatus := http.StatusFound
	switch r.Method {
	case http.MethodGet, http.MethodHead: // HEAD is GET without the body
	case http.MethodPost:
		redirectStatus = http.StatusSeeOther // RFC 9700 §4.12: never 307
	default:
		c.Response().Header().Set("Allow", "GET, HEAD, POST")
		return h.cfg.RenderError(c, errBadMethod)
	}

	ar, err := h.srv.ValidateAuthorizeRequest(r)
	var errorURL string
	if err != nil {
		var page *oerrors.Error
		if errorURL, page = h.srv.AuthorizeErrorResponse(r, err); page != nil {
			return h.cfg.RenderError(c, page)
		}
	}
	user, uerr := h.cfg.UserFromRequest(c)
	if uerr != nil {
		return h.showError(c, oerrors.ServerError(uerr))
	}
	if user == nil {
		return h.cfg.LoginRequired(c)
	}
	if err != nil {
		return c.Redirect(redirectStatus, errorURL)
	}

	session := ""
	if h.cfg.SessionFromRequest != nil {
		if session, err = h.cfg.SessionFromRequest(c); err != nil {
			return h.showError(c, oerrors.ServerError(err))
		}
	}
	canonical := canonicalQuery(ar.Params)
	if r.Method != http.MethodPost {
		if handled, err := h.rememberedConsent(c, ar, user); handled {
			return err
		}
		return h.cfg.Render(c, &ConsentPage{
			Request:   ar,
			User:      user,
			Action:    "?" + canonical,
			CSRFToken: h.csrfToken(user.ID, session, canonical, h.now()),
		})
	}

	d, claimed, err := h.readDecision(c, user, session, canonical)
	if err != nil {
		return h.showError(c, err)
	}
	target, err := h.srv.Authorize(r.Context(), ar, user, d)
	if err != nil {
		if oerrors.IsServerError(err) {
			// Our fault, not the form's: the user may post it again.
			_ = h.srv.ReleaseClaim(r.Context(), "consent", claimed, h.cfg.CSRFMaxAge+csrfSkew)
		}
		redirect, page := h.srv.AuthorizeErrorResponse(r, err)
		if page != nil {
			return h.cfg.RenderError(c, page)
		}
		target = redirect
	} else {
		h.rememberConsent(c, ar, user, d)
	}
	return c.Redirect(redirectStatus, target)
}

// showError logs server faults and shows err on the error page.
func (h *authorizeHandler) showError(c echo.Context, err error) error {
	_, page := h.srv.AuthorizeErrorResponse(c.Request(), oerrors.From(err))
	return h.cfg.RenderError(c, page)
}

func (h *authorizeHandler) now() time.Time { return h.srv.Options().Now() }

// readDecision parses the consent form body. The form is ours, not an OAuth
// request, so FieldScope may repeat; the decision and token may not.
func (h *authorizeHandler) readDecision(c echo.Context, user *oauth2server.User, session, canonical string) (d oauth2server.Decision, claimed string, err error) {
	r := c.Request()
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" || r.Body == nil {
		return d, "", errBadDecision
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, h.srv.Options().MaxBodyBytes))
	if err != nil {
		return d, "", errBadDecision
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return d, "", errBadDecision
	}
	if len(vals[FieldCSRFToken]) != 1 || !h.checkCSRF(vals[FieldCSRFToken][0], user.ID, session, canonical, h.now()) {
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
	first, err := h.srv.ClaimOnce(r.Context(), "consent", vals[FieldCSRFToken][0], h.cfg.CSRFMaxAge+csrfSkew)
	if err != nil {
		return d, "", err
	}
	if !first {
		return d, "", errBadConsentForm
	}
	return d, vals[FieldCSRFToken][0], nil
}

// canonicalQuery re-encodes the validated parameters in sorted order, so
// that the consent form's action and its CSRF binding do not depend on how
// the browser or the template escaped the original query.
func canonicalQuery(p map[string]string) string {
	v := make(url.Values, len(p))
	for k, val := range p {
		v.Set(k, val)
	}
	return v.Encode()
}

// csrfSkew is the clock difference between instances tolerated for a
// form's timestamp.
const csrfSkew = time.Minute

// csrfToken returns "<unix time>.<nonce>.<base64url HMAC>" over the time,
// the nonce, the user, the session and the request: a form cannot be used
// for another user, session or request, nor after CSRFMaxAge. The random
// nonce makes every rendered form a token of its own, so that spending one
// (two tabs on the same request) leaves the other valid.
func (h *authorizeHandler) csrfToken(userID, session, query string, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	var n [16]byte
	_, _ = rand.Read(n[:]) // crypto/rand.Read never fails
	nonce := base64.RawURLEncoding.EncodeToString(n[:])
	return ts + "." + nonce + "." + base64.RawURLEncoding.EncodeToString(h.csrfMAC(ts, nonce, userID, session, query))
}

func (h *authorizeHandler) csrfMAC(ts, nonce, userID, session, query string) []byte {
	m := hmac.New(sha256.New, h.cfg.CSRFKey)
	for _, part := range [...]string{"oauth2server consent v2", ts, nonce, userID, session, query} {
		// Length-prefix every part so that no two inputs concatenate alike.
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		m.Write(n[:])
		m.Write([]byte(part))
	}
	return m.Sum(nil)
}

func (h *authorizeHandler) checkCSRF(token, userID, session, query string, now time.Time) bool {
	ts, rest, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	nonce, sig, ok := strings.Cut(rest, ".")
	if !ok || len(nonce) != 22 {
		return false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	age := now.Sub(time.Unix(sec, 0))
	if age < -csrfSkew || age > h.cfg.CSRFMaxAge {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, h.csrfMAC(ts, nonce, userID, session, query))
}

// RedirectToLogin returns an [AuthorizeConfig.LoginRequired] hook that
// redirects to loginURL with the authorization request's URL in the
// return_to parameter. The login page must check that return_to is a path
// on its own site before redirecting there after login.
func RedirectToLogin(loginURL string) func(c echo.Context) error {
	return func(c echo.Context) error {
		sep := "?"
		if strings.Contains(loginURL, "?") {
			sep = "&"
		}
		status := http.StatusFound
		if c.Request().Method == http.MethodPost {
			status = http.StatusSeeOther
		}
		return c.Redirect(status, loginURL+sep+"return_to="+url.QueryEscape(c.Request().URL.RequestURI()))
	}
}

// setPageHeaders sets the headers every authorization endpoint response
// needs: no framing (RFC 9700 §4.16), no referrer leaking the code or the
// request (RFC 9700 §4.2.4), no caching, and no CORS (RFC 9700 §2.6) even if
// a CORS middleware ran before.
func setPageHeaders(h http.Header) {
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	for _, k := range [...]string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
		"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers"} {
		h.Del(k)
	}
}
