package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// The login form of an anonymous visitor is protected without server
// state: its CSRF token is bound to a signed,
// short-lived cookie. The consent form carries the library's token alone,
// which the library binds to the session (authorizeConfig) and spends when
// it is posted.
const (
	loginCookie     = "oauth2server_login"
	loginFormMaxAge = 10 * time.Minute
	// consentFormMaxAge is how long a consent form can be posted
	// (handlers.AuthorizeConfig.CSRFMaxAge).
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
