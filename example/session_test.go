package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newSessionKey returns a random session key, as -session-key takes it
// decoded.
func newSessionKey(t *testing.T) []byte {
	t.Helper()
	k, err := parseSessionKey(randomToken())
	require.NoError(t, err)
	return k
}

// anonymous visitors cost no server state. The home page, the login
// form and an authorization request that sends the visitor there store no
// session, however many arrive without cookies.
func TestAnonymousVisitsStoreNothing(t *testing.T) {
	t.Parallel()
	e, a, err := newApp(appConfig{Addr: "127.0.0.1:9096", hashPassword: cheapHash, SigningKeyFile: testSigningKey,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, a.Close(context.Background())) })
	paths := []string{"/", loginPath, a.demo.URL[len(a.issuer):]}
	expect := []int{http.StatusOK, http.StatusOK, http.StatusFound}
	for i := range 10_000 {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, paths[i%3], nil))
		require.Equal(t, expect[i%3], rec.Code, paths[i%3])
	}
	assert.Zero(t, a.sessions.store.(*memorySessions).len(), "no session stored")
}

func TestLoginCookie(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name         string
		givenIssuer  string
		expectSecure bool
	}{
		{name: "ok, http on loopback is not Secure", givenIssuer: "", expectSecure: false},
		{name: "ok, https issuer makes the cookies Secure", givenIssuer: "https://auth.example.com", expectSecure: true},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Behind a TLS-terminating proxy, which an https issuer needs.
			ts := startApp(t, appConfig{Issuer: tc.givenIssuer, TrustedProxies: []string{"127.0.0.1"}})
			c := behindProxy(browser(t), "https")
			resp, body := get(t, c, ts.base+loginPath)
			cookies := resp.Cookies()
			require.Len(t, cookies, 1, "the login form sets its cookie, no session")
			ck := cookies[0]
			assert.Equal(t, loginCookie, ck.Name)
			assert.Equal(t, loginPath, ck.Path, "sent to the login form only")
			assert.Equal(t, int(loginFormMaxAge/time.Second), ck.MaxAge)
			assert.True(t, ck.HttpOnly)
			assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)
			assert.Equal(t, tc.expectSecure, ck.Secure)
			assert.NotEqual(t, ck.Value, csrfToken(t, body), "the form's token is not the cookie")

			if tc.expectSecure {
				// The client jar does not send Secure cookies over http.
				c.Jar.SetCookies(&url.URL{Scheme: "http", Host: ts.base[len("http://"):], Path: loginPath},
					[]*http.Cookie{{Name: loginCookie, Value: ck.Value, Path: loginPath}})
			}
			resp, _ = post(t, c, ts.base+loginPath, url.Values{
				"csrf_token": {csrfToken(t, body)}, "username": {demoUsername}, "password": {demoPassword},
			})
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			byName := map[string]*http.Cookie{}
			for _, ck := range resp.Cookies() {
				byName[ck.Name] = ck
			}
			require.Contains(t, byName, sessionCookie, "the login starts the session")
			s := byName[sessionCookie]
			assert.Equal(t, "/", s.Path)
			assert.True(t, s.HttpOnly)
			assert.Equal(t, http.SameSiteLaxMode, s.SameSite)
			assert.Equal(t, tc.expectSecure, s.Secure)
			assert.Len(t, s.Value, 43, "256-bit random id")
			require.Contains(t, byName, loginCookie)
			assert.Negative(t, byName[loginCookie].MaxAge, "the login cookie is cleared")
		})
	}
}

// The login form's token is bound to its cookie and expires with it.
func TestLoginFormCookie(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	ts := startApp(t, appConfig{now: clock.Now})
	u, _ := url.Parse(ts.base + loginPath)
	login := func(c *http.Client, token string) int {
		resp, _ := post(t, c, ts.base+loginPath, url.Values{
			"csrf_token": {token}, "username": {demoUsername}, "password": {demoPassword},
		})
		return resp.StatusCode
	}
	cookieOf := func(c *http.Client) string {
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == loginCookie {
				return ck.Value
			}
		}
		return ""
	}

	t.Run("nok, forged cookie", func(t *testing.T) {
		c := browser(t)
		_, body := get(t, c, ts.base+loginPath)
		raw, err := b64.DecodeString(cookieOf(c))
		require.NoError(t, err)
		raw[len(raw)-1] ^= 1 // a bit of the MAC: the cookie still decodes, only hmac.Equal can refuse it
		c.Jar.SetCookies(u, []*http.Cookie{{Name: loginCookie, Value: b64.EncodeToString(raw), Path: loginPath}})
		assert.Equal(t, http.StatusForbidden, login(c, csrfToken(t, body)))
	})
	t.Run("nok, no cookie", func(t *testing.T) {
		c := browser(t)
		_, body := get(t, c, ts.base+loginPath)
		assert.Equal(t, http.StatusForbidden, login(browser(t), csrfToken(t, body)))
	})
	t.Run("nok, another browser's cookie", func(t *testing.T) {
		c, other := browser(t), browser(t)
		_, body := get(t, c, ts.base+loginPath)
		get(t, other, ts.base+loginPath)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: loginCookie, Value: cookieOf(other), Path: loginPath}})
		assert.Equal(t, http.StatusForbidden, login(c, csrfToken(t, body)))
	})
	t.Run("ok, a second tab shares the cookie", func(t *testing.T) {
		c := browser(t)
		_, first := get(t, c, ts.base+loginPath)
		resp, second := get(t, c, ts.base+loginPath)
		assert.Empty(t, resp.Cookies(), "a fresh cookie is kept")
		assert.Equal(t, csrfToken(t, first), csrfToken(t, second))
	})
	// Last: it moves the clock, which the subtests above share.
	t.Run("nok, expired form; ok, reloaded", func(t *testing.T) {
		c := browser(t)
		_, body := get(t, c, ts.base+loginPath)
		clock.Add(loginFormMaxAge/2 + time.Second)
		resp, reloaded := get(t, c, ts.base+loginPath)
		require.Len(t, resp.Cookies(), 1, "a cookie that expires soon is renewed")
		clock.Add(loginFormMaxAge / 2)
		assert.Equal(t, http.StatusForbidden, login(c, csrfToken(t, body)), "the first form expired")
		assert.Equal(t, http.StatusSeeOther, login(c, csrfToken(t, reloaded)))
	})
}

// A new session id on login: an id planted before login (session
// fixation) is worthless afterwards, and so is the previous session of a
// browser that logs in again.
func TestLoginRotatesSession(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	u, _ := url.Parse(ts.base)
	c := browser(t)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "planted-by-an-attacker"}})
	ts.login(t, c)
	first := sessionCookieOf(t, c, u)
	assert.NotEqual(t, "planted-by-an-attacker", first)

	ts.login(t, c)
	second := sessionCookieOf(t, c, u)
	assert.NotEqual(t, first, second)
	_, body := get(t, c, ts.base+"/")
	assert.Contains(t, body, "Signed in as <strong>demo</strong>")

	old := browser(t)
	old.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: first}})
	resp, oldBody := get(t, old, ts.base+"/")
	assert.NotContains(t, oldBody, "Signed in as", "the replaced session ended")
	require.Len(t, resp.Cookies(), 1)
	assert.Negative(t, resp.Cookies()[0].MaxAge, "a dead session's cookie is cleared")

	// Logging out needs the CSRF token and ends the session.
	resp, _ = post(t, c, ts.base+logoutPath, url.Values{})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = post(t, c, ts.base+logoutPath, url.Values{"csrf_token": {csrfToken(t, body)}})
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, body = get(t, c, ts.base+"/")
	assert.NotContains(t, body, "Signed in as")
	assert.Zero(t, ts.app.sessions.store.(*memorySessions).len())
}

func sessionCookieOf(t *testing.T, c *http.Client, u *url.URL) string {
	t.Helper()
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// newSession returns a session for the memory store tests.
func newSession(key string, at time.Time) *session {
	return &session{key: key, userID: "u-" + key, username: key, created: at, seen: at}
}

func TestMemorySessionsCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newMemorySessions(3)
	t0 := time.Now()
	for i := range 3 {
		require.NoError(t, m.create(ctx, newSession(fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second))))
	}
	s, err := m.get(ctx, "0", t0.Add(3*time.Second))
	require.NoError(t, err)
	require.NotNil(t, s, "0 is now the most recently used")

	require.NoError(t, m.create(ctx, newSession("3", t0.Add(4*time.Second))))
	assert.Equal(t, 3, m.len())
	for key, expect := range map[string]bool{"0": true, "1": false, "2": true, "3": true} {
		s, err := m.get(ctx, key, t0.Add(5*time.Second))
		require.NoError(t, err)
		assert.Equal(t, expect, s != nil, "session %s", key)
	}
}

func TestMemorySessionsExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t0 := time.Now()

	t.Run("ok, idle sessions expire, the others stay", func(t *testing.T) {
		m := newMemorySessions(100)
		for i := range 10 { // one every 5 minutes
			require.NoError(t, m.create(ctx, newSession(fmt.Sprint(i), t0.Add(time.Duration(i)*5*time.Minute))))
		}
		// At t0+47m, sessions 0..3 (last used at t0+15m or before) are
		// idle for more than 30 minutes.
		now := t0.Add(47 * time.Minute)
		s, err := m.get(ctx, "9", now)
		require.NoError(t, err)
		require.NotNil(t, s)
		assert.Equal(t, 6, m.len(), "the four expired sessions are gone, nothing else")
		for i := range 10 {
			s, err := m.get(ctx, fmt.Sprint(i), now)
			require.NoError(t, err)
			assert.Equal(t, i >= 4, s != nil, "session %d", i)
		}
	})

	t.Run("ok, a session in use ends after its maximum lifetime", func(t *testing.T) {
		m := newMemorySessions(100)
		require.NoError(t, m.create(ctx, newSession("busy", t0)))
		at := t0
		for at.Before(t0.Add(sessionMaxLifetime - 20*time.Minute)) {
			at = at.Add(20 * time.Minute)
			s, err := m.get(ctx, "busy", at)
			require.NoError(t, err)
			require.NotNil(t, s, "in use at %v", at.Sub(t0))
		}
		s, err := m.get(ctx, "busy", t0.Add(sessionMaxLifetime))
		require.NoError(t, err)
		assert.Nil(t, s)
		assert.Zero(t, m.len())
	})

	t.Run("ok, a full store evicts the least recently used", func(t *testing.T) {
		m := newMemorySessions(2)
		require.NoError(t, m.create(ctx, newSession("a", t0)))
		require.NoError(t, m.create(ctx, newSession("b", t0)))
		require.NoError(t, m.create(ctx, newSession("c", t0)))
		assert.Equal(t, 2, m.len())
		s, _ := m.get(ctx, "a", t0)
		assert.Nil(t, s)
	})
}

// The session key comes from -session-key or the -config file's
// session_key (the flag wins), base64 in either alphabet.
func TestSessionKeyConfig(t *testing.T) {
	t.Parallel()
	fileKey, flagKey := newSessionKey(t), newSessionKey(t)
	p := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(p, []byte(`{"session_key":"`+base64.StdEncoding.EncodeToString(fileKey)+`"}`), 0o600))
	fc, err := loadConfigFile(p)
	require.NoError(t, err)

	ts := startApp(t, appConfig{Data: fc, Issuer: "http://127.0.0.1:9096"})
	assert.Equal(t, deriveFormKeys(fileKey), ts.app.sessions.keys, "from the file")
	ts = startApp(t, appConfig{Data: fc, Issuer: "http://127.0.0.1:9096", SessionKey: flagKey})
	assert.Equal(t, deriveFormKeys(flagKey), ts.app.sessions.keys, "the flag wins")

	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		got, err := parseSessionKey(" " + enc.EncodeToString(fileKey) + "\n")
		require.NoError(t, err)
		assert.Equal(t, fileKey, got)
	}
	keys := deriveFormKeys(fileKey)
	distinct := map[string]bool{}
	for _, k := range [][]byte{keys.consent, keys.login, keys.session, keys.log, keys.logout} {
		assert.Len(t, k, 32)
		distinct[string(k)] = true
	}
	assert.Len(t, distinct, 5, "one key per purpose")
}
