package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// The login page uses the Server's LoginThrottle, the one that guards the
// password grant, so both draw from one budget per account: failures only,
// growing delays per username beyond a few free failures, and a budget per
// source address (RFC 6749 §10.10; RFC 6819 §5.1.4.2.3; R-112,
// Successful logins are never counted, so an office behind one
// address is only ever stopped by its own wrong passwords.

// chargeLogin asks the throttle whether a login for username may proceed
// and charges it as a failure. A positive wait means refused: answer with
// loginThrottled without checking the password, so a refused attempt tells
// nothing and costs nothing.
func (a *app) chargeLogin(c echo.Context, username string) (wait time.Duration, err error) {
	r := c.Request()
	address := a.srv.ClientAddress(r)
	wait, err = a.srv.LoginThrottle().Attempt(r.Context(), username, address)
	if err != nil || wait <= 0 {
		return wait, err
	}
	// below error level, and at info only the first time an
	// address is refused within a window, so attackers cannot flood the
	// logs. The username is logged as a digest prefix: people type
	// passwords into the username field.
	level := a.throttleLog.level(address, a.srv.Options().Now())
	a.cfg.Logger.Log(r.Context(), level, "example: login throttled",
		"address", address, "account", a.accountDigest(username), "retry_after", wait.Round(time.Second))
	return wait, nil
}

// loginSucceeded gives back the charge of a login whose password was right.
// A failure to do so costs the user one counted failure, not the login.
func (a *app) loginSucceeded(c echo.Context, username string) {
	r := c.Request()
	if err := a.srv.LoginThrottle().Succeeded(r.Context(), username, a.srv.ClientAddress(r)); err != nil {
		a.cfg.Logger.ErrorContext(r.Context(), "example: login throttle: giving back a successful attempt failed", "error", err)
	}
}

// loginThrottled answers a refused login with the login page, 429 and
// Retry-After (RFC 6585 §4), never a redirect. Unknown and existing
// usernames are throttled alike, so the page tells nothing about whether
// the account exists.
func (a *app) loginThrottled(c echo.Context, d loginData, wait time.Duration) error {
	a.audit(c, oauth2server.Event{Kind: oauth2server.EventLoginThrottled, Username: a.accountDigest(d.Username)})
	secs := int64((wait + time.Second - 1) / time.Second)
	c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	d.Error = "Too many failed sign-in attempts. Wait " + waitText(secs) + ", then try again."
	return a.pages.render(c, http.StatusTooManyRequests, "login.html", d)
}

func waitText(secs int64) string {
	switch {
	case secs <= 1:
		return "a second"
	case secs < 60:
		return fmt.Sprintf("%d seconds", secs)
	case secs < 120:
		return "a minute"
	default:
		return fmt.Sprintf("%d minutes", (secs+59)/60)
	}
}

// accountDigest identifies a username in logs without writing it.
//
// It is an HMAC under a key derived from the session key, not a plain
// hash: people type passwords into the username field, and a plain hash
// of a common password is found with a dictionary.
func (a *app) accountDigest(username string) string {
	m := hmac.New(sha256.New, a.sessions.keys.log)
	m.Write([]byte(username))
	return hex.EncodeToString(m.Sum(nil)[:6])
}

// onceLog picks the level of a throttling log line: info the first time a
// key is seen within the window, debug afterwards. It holds at most max
// keys; when full it starts over, so it stays small whatever an attacker
// sends, at the price of a few repeated info lines.
type onceLog struct {
	window time.Duration
	max    int

	mu   sync.Mutex
	seen map[string]time.Time // key → end of its window
}

func newOnceLog(window time.Duration, max int) *onceLog {
	return &onceLog{window: window, max: max, seen: make(map[string]time.Time)}
}

func (o *onceLog) level(key string, now time.Time) slog.Level {
	o.mu.Lock()
	defer o.mu.Unlock()
	if until, ok := o.seen[key]; ok && now.Before(until) {
		return slog.LevelDebug
	}
	if len(o.seen) >= o.max {
		clear(o.seen)
	}
	o.seen[key] = now.Add(o.window)
	return slog.LevelInfo
}

// throttleLogWindow is how long an address stays quiet (debug) in the log
// after its first throttled login: the throttle's own window.
const throttleLogWindow = oauth2server.DefaultLoginFailureWindow
