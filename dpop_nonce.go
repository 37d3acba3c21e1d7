package oauth2server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// DPoPNonce returns the current DPoP nonce, "" unless
// [DPoPOptions.RequireNonce]. Send it in a DPoP-Nonce header;
// [Server.PrepareError] does with use_dpop_nonce, and token responses carry
// it ([TokenResponse.DPoPNonce]).
func (s *Server) DPoPNonce() string {
	if s.dpop == nil || !s.dpop.opts.RequireNonce {
		return ""
	}
	return s.dpop.nonce(s.dpop.period(s.now()))
}

// period is the number of the nonce period of t.
func (d *dpopConfig) period(t time.Time) uint64 {
	return uint64(t.UnixNano() / int64(d.opts.NonceLifetime))
}

// nonce is the nonce of period n: n and an HMAC of it, base64url. It is
// unpredictable without the key and needs no storage.
func (d *dpopConfig) nonce(n uint64) string {
	var b [8 + sha256.Size]byte
	binary.BigEndian.PutUint64(b[:8], n)
	m := hmac.New(sha256.New, d.opts.NonceKey)
	m.Write([]byte("oauth2server dpop nonce v1"))
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:8+dpopNonceDigestBytes])
}

// validNonce accepts the nonce of the current period and of the one
// before, so a nonce lives between one and two periods.
func (d *dpopConfig) validNonce(nonce string, now time.Time) bool {
	if nonce == "" {
		return false
	}
	cur := d.period(now)
	for _, n := range [...]uint64{cur, cur - 1} {
		if hmac.Equal([]byte(nonce), []byte(d.nonce(n))) {
			return true
		}
	}
	return false
}
