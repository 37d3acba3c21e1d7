package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// Session cookie and lifetimes. Only a successful login creates a
// session: anonymous visitors cost no server state,
// their login form is protected by a signed cookie instead (csrf.go).
const (
	sessionCookie      = "oauth2server_session"
	sessionIdleTimeout = 30 * time.Minute
	sessionMaxLifetime = 12 * time.Hour
	// sessionTouchEvery is how stale a session's last use may be before a
	// request records it again: a page view costs a read, not a write.
	sessionTouchEvery = time.Minute
	// defaultMaxSessions is the default of appConfig.MaxSessions.
	defaultMaxSessions = 100_000
	csrfField          = "csrf_token"
)

// session is the server-side state of one logged-in browser.
type session struct {
	// key is the SHA-256 digest of the cookie value, base64url: stores
	// never hold the id itself, so a copy of the store logs nobody in.
	key      string
	userID   string
	username string
	created  time.Time
	seen     time.Time
	// authTime is when the user last entered their password, the
	// auth_time of ID tokens (OIDC Core §2); a request of the session does
	// not change it. amr lists how they authenticated (RFC 8176): "pwd".
	authTime time.Time
	amr      []string
}

// expiresAt is when the session ends unless it is used again.
func (s *session) expiresAt() time.Time {
	return minTime(s.seen.Add(sessionIdleTimeout), s.created.Add(sessionMaxLifetime))
}

func (s *session) expired(now time.Time) bool { return !now.Before(s.expiresAt()) }

func (s *session) user() *oauth2server.User {
	return &oauth2server.User{ID: s.userID, Username: s.username}
}

// authentication is how the session's user authenticated, for the
// authorization endpoint (max_age, prompt=login) and the ID tokens.
func (s *session) authentication() oauth2server.Authentication {
	return oauth2server.Authentication{Time: s.authTime, AMR: s.amr}
}

// amrPassword is the authentication method of the login page (RFC 8176
// §2): a password.
var amrPassword = []string{"pwd"}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// sessionStore keeps the sessions of logged-in users: in memory
// (memorySessions), or in MongoDB (mongoSessions) so that every instance
// of a deployment sees them.
type sessionStore interface {
	// create stores a new session, evicting the least recently used ones
	// when the store is full.
	create(ctx context.Context, s *session) error
	// get returns the session with key, or nil when there is none or it
	// has expired at now; it records now as its last use (the MongoDB
	// store at most once a minute, so that a page view is a read).
	get(ctx context.Context, key string, now time.Time) (*session, error)
	// delete removes the session with key; a missing one is no error.
	delete(ctx context.Context, key string) error
}

// sessionManager ties sessions to cookies and signs the example's form
// tokens.
type sessionManager struct {
	store  sessionStore
	keys   formKeys
	secure bool // set the Secure attribute (the issuer is https)
	now    func() time.Time
}

// b64 encodes the example's ids, tokens and cookies. Strict: a token
// whose unused last bits were changed is another token, not the same.
var b64 = base64.RawURLEncoding.Strict()

// ctxSession is where the request's session is remembered once looked up.
const ctxSession = "example.session"

type sessionLookup struct{ s *session }

// randomToken returns 32 random bytes, base64url: session ids and PKCE
// verifiers must not be guessable.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return b64.EncodeToString(b[:])
}

// sessionKey is the store key of a session id.
func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return b64.EncodeToString(sum[:])
}

// current returns the logged-in session of the request, or nil. The
// lookup is done once per request. A cookie naming no live session is
// cleared, so that the browser stops sending it.
func (m *sessionManager) current(c echo.Context) (*session, error) {
	if l, ok := c.Get(ctxSession).(sessionLookup); ok {
		return l.s, nil
	}
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		c.Set(ctxSession, sessionLookup{})
		return nil, nil
	}
	s, err := m.store.get(c.Request().Context(), sessionKey(ck.Value), m.now())
	if err != nil {
		return nil, err
	}
	if s == nil {
		m.setCookie(c, "", -1)
	}
	c.Set(ctxSession, sessionLookup{s})
	return s, nil
}

// login starts a new session for user, who just entered their password,
// and replaces the request's session, if any. A new id on login prevents
// session fixation: an id planted before login is worth nothing
// afterwards.
func (m *sessionManager) login(c echo.Context, user *oauth2server.User) error {
	ctx := c.Request().Context()
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := m.store.delete(ctx, sessionKey(ck.Value)); err != nil {
			return err
		}
	}
	id := randomToken()
	now := m.now()
	s := &session{key: sessionKey(id), userID: user.ID, username: user.Username, created: now, seen: now,
		authTime: now, amr: amrPassword}
	if err := m.store.create(ctx, s); err != nil {
		return err
	}
	m.setCookie(c, id, int(sessionMaxLifetime/time.Second))
	c.Set(ctxSession, sessionLookup{s})
	return nil
}

// logout ends the session s of the request.
func (m *sessionManager) logout(c echo.Context, s *session) error {
	if err := m.store.delete(c.Request().Context(), s.key); err != nil {
		return err
	}
	m.setCookie(c, "", -1)
	c.Set(ctxSession, sessionLookup{})
	return nil
}

func (m *sessionManager) setCookie(c echo.Context, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   m.secure,
		// Lax: the cookie comes along when the client redirects the user
		// to the authorization endpoint (a top-level GET), but not on
		// cross-site POSTs, which is a second line of defence for the
		// forms besides their CSRF token.
		SameSite: http.SameSiteLaxMode,
	})
}

// csrf returns the CSRF token of the forms of a logged-in session (logout,
// device): a MAC of the session key, so every instance that shares the
// session key computes the same token without storing it.
func (m *sessionManager) csrf(s *session) string {
	return b64.EncodeToString(mac(m.keys.session, "session-form", s.key))
}

// validCSRF reports whether formToken is the CSRF token of s, in constant
// time. Another origin can neither read nor compute it (RFC 6749 §10.12).
func (m *sessionManager) validCSRF(s *session, formToken string) bool {
	if s == nil || formToken == "" {
		return false
	}
	got, err := b64.DecodeString(formToken)
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(m.keys.session, "session-form", s.key))
}

// formKeys are the HMAC-SHA256 keys of the example's cookies and forms,
// each derived from the configured session key for one purpose, so that
// a value made for one purpose is worthless for another.
type formKeys struct {
	consent []byte // handlers.AuthorizeConfig.CSRFKey
	login   []byte // the login form's cookie and token
	session []byte // the forms of a logged-in session
	log     []byte // usernames in logs (accountDigest)
	logout  []byte // handlers.EndSessionConfig.CSRFKey
	nonce   []byte // oauth2server.DPoPOptions.NonceKey
}

// minSessionKeyBytes is the shortest accepted session key: 256 bits, the
// size of the HMAC-SHA256 output.
const minSessionKeyBytes = 32

func deriveFormKeys(key []byte) formKeys {
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("oauth2server example key v1: " + purpose))
		return m.Sum(nil)
	}
	return formKeys{
		consent: derive("consent"),
		login:   derive("login"),
		session: derive("session"),
		log:     derive("log"),
		logout:  derive("end-session"),
		nonce:   derive("dpop-nonce"),
	}
}

// parseSessionKey decodes a session key given as base64 (standard or URL
// alphabet, padded or not).
func parseSessionKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) < minSessionKeyBytes {
				return nil, errSessionKeyShort
			}
			return k, nil
		}
	}
	return nil, errors.New("not base64 (make a key with: openssl rand -base64 32)")
}

var errSessionKeyShort = errors.New("shorter than 32 bytes (make a key with: openssl rand -base64 32)")

// mac returns HMAC-SHA256 under key of purpose and parts, each
// length-prefixed so that no two inputs concatenate alike.
func mac(key []byte, purpose string, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range append([]string{purpose}, parts...) {
		m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(p))))
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}
