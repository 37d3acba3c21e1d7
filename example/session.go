package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// Session cookie and lifetimes. The session lives only in this process: a
// restart logs everybody out, which is fine for an example. A deployment
// with several instances keeps sessions in a shared store instead.
const (
	sessionCookie      = "oauth2server_session"
	sessionIdleTimeout = 30 * time.Minute
	sessionMaxLifetime = 12 * time.Hour
	csrfField          = "csrf_token"
)

// session is the server-side state behind one session cookie.
type session struct {
	id      string
	user    *oauth2server.User // nil until the user logged in
	csrf    string
	created time.Time
	seen    time.Time
}

// sessionStore keeps sessions in memory, keyed by the random cookie value.
type sessionStore struct {
	secure bool // set the Secure attribute (the issuer is https)
	now    func() time.Time

	mu       sync.Mutex
	sessions map[string]*session
	writes   int
}

func newSessionStore(secure bool, now func() time.Time) *sessionStore {
	return &sessionStore{secure: secure, now: now, sessions: make(map[string]*session)}
}

// randomToken returns 32 random bytes, base64url: session ids and CSRF
// tokens must not be guessable.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// get returns the live session of the request, or nil.
func (s *sessionStore) get(c echo.Context) *session {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[ck.Value]
	if !ok {
		return nil
	}
	if now.Sub(sess.seen) > sessionIdleTimeout || now.Sub(sess.created) > sessionMaxLifetime {
		delete(s.sessions, sess.id)
		return nil
	}
	sess.seen = now
	cp := *sess
	return &cp
}

// ensure returns the request's session, starting an anonymous one (with a
// CSRF token for the login form) when there is none.
func (s *sessionStore) ensure(c echo.Context) *session {
	if sess := s.get(c); sess != nil {
		return sess
	}
	return s.start(c, nil)
}

// start creates a session for user (nil: anonymous), sets its cookie and returns it.
func (s *sessionStore) start(c echo.Context, user *oauth2server.User) *session {
	now := s.now()
	sess := &session{id: randomToken(), user: user, csrf: randomToken(), created: now, seen: now}
	s.mu.Lock()
	s.sessions[sess.id] = sess
	s.writes++
	if s.writes%256 == 0 {
		s.sweepLocked(now)
	}
	s.mu.Unlock()
	s.setCookie(c, sess.id, int(sessionMaxLifetime/time.Second))
	cp := *sess
	return &cp
}

// login replaces the request's session by a new one for user. A new id
// on login prevents session fixation: an id planted before login is worth
// nothing afterwards.
func (s *sessionStore) login(c echo.Context, old *session, user *oauth2server.User) *session {
	if old != nil {
		s.mu.Lock()
		delete(s.sessions, old.id)
		s.mu.Unlock()
	}
	u := *user
	return s.start(c, &u)
}

// logout ends the request's session.
func (s *sessionStore) logout(c echo.Context) {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		delete(s.sessions, ck.Value)
		s.mu.Unlock()
	}
	s.setCookie(c, "", -1)
}

func (s *sessionStore) setCookie(c echo.Context, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		// Lax: the cookie comes along when the client redirects the user
		// to the authorization endpoint (a top-level GET), but not on
		// cross-site POSTs, which is a second line of defence for the
		// forms besides their CSRF token.
		SameSite: http.SameSiteLaxMode,
	})
}

func (s *sessionStore) sweepLocked(now time.Time) {
	for id, sess := range s.sessions {
		if now.Sub(sess.seen) > sessionIdleTimeout || now.Sub(sess.created) > sessionMaxLifetime {
			delete(s.sessions, id)
		}
	}
}

// validCSRF reports whether the form's CSRF token is the session's. The
// token is bound to the server-side session, so a page of another origin
// can neither read nor forge it (RFC 6749 §10.12).
func validCSRF(sess *session, formToken string) bool {
	if sess == nil || formToken == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(sess.csrf), []byte(formToken)) == 1
}
