package authorize

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

// csrfSkew is the clock difference between instances tolerated for a
// form's timestamp.
const csrfSkew = time.Minute

// csrfToken returns "<unix time>.<nonce>.<base64url HMAC>" over the time,
// the nonce, the user, the session and the request: a form cannot be used
// for another user, session or request, nor after CSRFMaxAge. The random
// nonce makes every rendered form a token of its own, so that spending one
// (two tabs on the same request) leaves the other valid.
func (e *Endpoint) csrfToken(userID, session, query string, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	var n [16]byte
	_, _ = rand.Read(n[:]) // crypto/rand.Read never fails
	nonce := base64.RawURLEncoding.EncodeToString(n[:])
	return ts + "." + nonce + "." + base64.RawURLEncoding.EncodeToString(e.csrfMAC(ts, nonce, userID, session, query))
}

func (e *Endpoint) csrfMAC(ts, nonce, userID, session, query string) []byte {
	m := hmac.New(sha256.New, e.key)
	for _, part := range [...]string{"oauth2server consent v2", ts, nonce, userID, session, query} {
		// Length-prefix every part so that no two inputs concatenate alike.
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		m.Write(n[:])
		m.Write([]byte(part))
	}
	return m.Sum(nil)
}

func (e *Endpoint) checkCSRF(token, userID, session, query string, now time.Time) bool {
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
	if age < -csrfSkew || age > e.maxAge {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, e.csrfMAC(ts, nonce, userID, session, query))
}
