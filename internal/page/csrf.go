package page

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
	"time"
)

// CSRFSkew is the clock difference between instances tolerated for a
// form's timestamp.
const CSRFSkew = time.Minute

// CSRF makes and checks the tokens of a form:
// "<unix time>.<nonce>.<base64url HMAC>", the HMAC-SHA256 under Key of
// Label, the time, the nonce and the form's binding (the user, the
// session, the request: whatever the form must not be used without). A
// token is refused for another binding and after MaxAge. The random nonce
// makes every rendered form a token of its own, so that spending one (two
// tabs on the same request) leaves the other valid.
type CSRF struct {
	// Key is the HMAC key, at least 32 bytes.
	Key []byte
	// MaxAge is how long a token is accepted.
	MaxAge time.Duration
	// Label separates the tokens of different forms: a token of one is
	// never one of another under the same key.
	Label string
}

// Token returns a new token for binding at now.
func (c *CSRF) Token(now time.Time, binding ...string) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	var n [16]byte
	_, _ = rand.Read(n[:]) // crypto/rand.Read never fails
	nonce := base64.RawURLEncoding.EncodeToString(n[:])
	return ts + "." + nonce + "." + base64.RawURLEncoding.EncodeToString(c.mac(ts, nonce, binding))
}

func (c *CSRF) mac(ts, nonce string, binding []string) []byte {
	m := hmac.New(sha256.New, c.Key)
	write := func(part string) {
		// Length-prefix every part so that no two inputs concatenate alike.
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		m.Write(n[:])
		m.Write([]byte(part))
	}
	write(c.Label)
	write(ts)
	write(nonce)
	for _, part := range binding {
		write(part)
	}
	return m.Sum(nil)
}

// Check reports whether token is a token of binding that is neither older
// than MaxAge nor more than [CSRFSkew] in the future at now.
func (c *CSRF) Check(token string, now time.Time, binding ...string) bool {
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
	if age < -CSRFSkew || age > c.MaxAge {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, c.mac(ts, nonce, binding))
}
