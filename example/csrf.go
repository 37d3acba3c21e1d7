package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
)

// The login form of an anonymous visitor is protected without server
// state: its CSRF token is bound to a signed,
// short-lived cookie. The consent form carries, besides the library's
// token, a token bound to the session that is spent on use.
const (
	loginCookie     = "oauth2server_login"
	loginFormMaxAge = 10 * time.Minute
	// consentField carries the session-bound, single-use consent token.
	consentField      = "consent_token"
	consentFormMaxAge = 10 * time.Minute
	// clockSkew is how far in the future a token's expiry may lie beyond
	// its lifetime, for instances whose clocks differ a little.
	clockSkew = time.Minute

	expiryBytes    = 8  // Unix seconds, big-endian
	loginNonceSize = 16 // makes every login cookie distinct
	macBytes       = sha256.Size
)

// loginCookieValue is expiry || nonce: what the login cookie's MAC and the
// login form's token are computed over.
type loginCookieValue []byte

func (v loginCookieValue) expires() time.Time {
	return time.Unix(int64(binary.BigEndian.Uint64(v[:expiryBytes])), 0)
}

// loginForm returns the CSRF token of the login form. It is a MAC of the
// login cookie's value, which it sets when the browser has none, or one
// that expires soon. Another browser's cookie and token do not match this
// browser's cookie, and another site can read neither.
func (m *sessionManager) loginForm(c echo.Context) string {
	now := m.now()
	v, ok := m.loginCookie(c, now)
	if !ok || v.expires().Sub(now) < loginFormMaxAge/2 {
		v = binary.BigEndian.AppendUint64(nil, uint64(now.Add(loginFormMaxAge).Unix()))
		v = append(v, make([]byte, loginNonceSize)...)
		_, _ = rand.Read(v[expiryBytes:]) // crypto/rand.Read never fails
		val := append(append([]byte(nil), v...), mac(m.keys.login, "login-cookie", string(v))...)
		m.setLoginCookie(c, b64.EncodeToString(val), int(loginFormMaxAge/time.Second))
	}
	return b64.EncodeToString(mac(m.keys.login, "login-form", string(v)))
}

// validLoginForm reports whether formToken belongs to the request's login
// cookie, which must be authentic and unexpired. Both MACs are compared in
// constant time.
func (m *sessionManager) validLoginForm(c echo.Context, formToken string) bool {
	v, ok := m.loginCookie(c, m.now())
	if !ok || formToken == "" {
		return false
	}
	got, err := b64.DecodeString(formToken)
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(m.keys.login, "login-form", string(v)))
}

// loginCookie returns the value of the request's login cookie when its MAC
// is right and it has not expired.
func (m *sessionManager) loginCookie(c echo.Context, now time.Time) (loginCookieValue, bool) {
	ck, err := c.Cookie(loginCookie)
	if err != nil {
		return nil, false
	}
	raw, err := b64.DecodeString(ck.Value)
	if err != nil || len(raw) != expiryBytes+loginNonceSize+macBytes {
		return nil, false
	}
	v, sig := loginCookieValue(raw[:expiryBytes+loginNonceSize]), raw[expiryBytes+loginNonceSize:]
	if !hmac.Equal(sig, mac(m.keys.login, "login-cookie", string(v))) {
		return nil, false
	}
	if exp := v.expires(); !now.Before(exp) || exp.After(now.Add(loginFormMaxAge+clockSkew)) {
		return nil, false
	}
	return v, true
}

// clearLoginCookie drops the login cookie once it served its purpose.
func (m *sessionManager) clearLoginCookie(c echo.Context) {
	if _, err := c.Cookie(loginCookie); err == nil {
		m.setLoginCookie(c, "", -1)
	}
}

func (m *sessionManager) setLoginCookie(c echo.Context, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name:     loginCookie,
		Value:    value,
		Path:     loginPath, // only the login form needs it
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   m.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// consentToken returns the consent form's second token: expiry || MAC of
// the session, the library's CSRF token of the same form and the expiry.
// The library's token binds the form to the user and the request; this
// one binds it to the session, and is spent when the form is posted.
func (m *sessionManager) consentToken(s *session, csrfToken string) string {
	e := binary.BigEndian.AppendUint64(nil, uint64(m.now().Add(consentFormMaxAge).Unix()))
	return b64.EncodeToString(append(e, mac(m.keys.consentOnce, "consent", s.key, csrfToken, string(e))...))
}

// spendConsentToken reports whether tok is a live consent token of session
// s for the form whose library CSRF token is csrfToken, and spends it: a
// second post of the same form gets false.
func (m *sessionManager) spendConsentToken(ctx context.Context, s *session, tok, csrfToken string) (bool, error) {
	raw, err := b64.DecodeString(tok)
	if err != nil || len(raw) != expiryBytes+macBytes {
		return false, nil
	}
	e, sig := raw[:expiryBytes], raw[expiryBytes:]
	now := m.now()
	exp := time.Unix(int64(binary.BigEndian.Uint64(e)), 0)
	if !now.Before(exp) || exp.After(now.Add(consentFormMaxAge+clockSkew)) {
		return false, nil
	}
	if !hmac.Equal(sig, mac(m.keys.consentOnce, "consent", s.key, csrfToken, string(e))) {
		return false, nil
	}
	// One claim per rendered form: two tokens minted for the same form
	// (a reload within the second) share it.
	sum := sha256.Sum256([]byte(csrfToken))
	return m.store.claim(ctx, s.key, "consent:"+b64.EncodeToString(sum[:]), exp, now)
}

var errConsentFormSpent = oerrors.ErrInvalidRequest.WithStatus(http.StatusForbidden).
	WithDescription("The consent form is invalid, expired or was already sent. Go back to the application and try again.")

// consentOnce guards the consent POST of a logged-in session: the form
// must carry a consent token of this session, unspent. It runs before the
// library's handler, which then checks its own token and the request. A
// POST without a session goes on to the handler, which sends it to the
// login page.
func (a *app) consentOnce(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method != http.MethodPost || c.Path() != authorizePath {
			return next(c)
		}
		s, err := a.sessions.current(c)
		if err != nil {
			return a.serverError(c, err)
		}
		if s == nil {
			return next(c)
		}
		refuse := func() error {
			c.Response().Header().Set("Cache-Control", "no-store")
			return a.renderAuthorizeError(c, errConsentFormSpent)
		}
		if r.Body == nil {
			return refuse()
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, a.srv.Options().MaxBodyBytes))
		if err != nil {
			return refuse()
		}
		r.Body = io.NopCloser(bytes.NewReader(body)) // the handler reads it again
		vals, err := url.ParseQuery(string(body))
		if err != nil || len(vals[consentField]) != 1 || len(vals[csrfField]) != 1 {
			return refuse()
		}
		ok, err := a.sessions.spendConsentToken(r.Context(), s, vals[consentField][0], vals[csrfField][0])
		if err != nil {
			return a.serverError(c, err)
		}
		if !ok {
			return refuse()
		}
		return next(c)
	}
}
