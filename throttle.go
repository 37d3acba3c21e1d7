package oauth2server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	oerrors "github.com/echo-oauth2/oauth2server/errors"
	"github.com/echo-oauth2/oauth2server/internal/counter"
)

// Defaults of [LoginThrottleOptions].
const (
	DefaultLoginFailureWindow       = 15 * time.Minute
	DefaultLoginFreeFailures        = 5
	DefaultLoginBaseDelay           = time.Second
	DefaultLoginMaxDelay            = 5 * time.Minute
	DefaultLoginMaxAddressFailures  = 100
	maxLoginDelayDoublings          = 20
	counterKeyDigestBytes           = 16 // 128 bits: collisions are not a concern
	throttleDescription             = "Too many requests; try again later."
	throttleDescriptionDevice       = "Too many pending device authorizations; try again later."
	throttleDescriptionPasswordWait = "Too many failed logins; try again later."
)

// errThrottled is the answer of every throttle of the Server: 429 with
// Retry-After (RFC 6585 §4). RFC 6749 has no error code for it; slow_down
// (RFC 8628 §3.5) says what the client must do.
var errThrottled = oerrors.ErrSlowDown.WithStatus(http.StatusTooManyRequests).WithDescription(throttleDescription)

// LoginThrottleOptions configures a [LoginThrottle]. The zero value is the
// default configuration.
type LoginThrottleOptions struct {
	// Window is how long a failure is remembered. Optional. Default 15
	// minutes.
	Window time.Duration
	// FreeFailures is the number of failures of one account within Window
	// that cost nothing. Optional. Default 5; negative means none.
	FreeFailures int
	// BaseDelay is the delay imposed on an account after its first failure
	// beyond FreeFailures; each further failure doubles it. Optional.
	// Default 1 second.
	BaseDelay time.Duration
	// MaxDelay caps the per-account delay. Optional. Default 5 minutes.
	// The account is only ever delayed, never locked: its owner can log in
	// once the delay has passed (RFC 6819 §5.1.4.2.3, R-113).
	MaxDelay time.Duration
	// MaxAddressFailures is the number of failures within Window after
	// which a source address (an IPv4 address or an IPv6 /64) is refused
	// until the window ends. Optional. Default 100; negative disables it.
	// Successful logins never count, so an office behind one address is
	// only stopped by its own failures.
	MaxAddressFailures int
	// Disabled turns the throttle off. Optional. Default false.
	Disabled bool
}

func (o *LoginThrottleOptions) fill() error {
	if o.Window == 0 {
		o.Window = DefaultLoginFailureWindow
	}
	if o.FreeFailures == 0 {
		o.FreeFailures = DefaultLoginFreeFailures
	}
	if o.BaseDelay == 0 {
		o.BaseDelay = DefaultLoginBaseDelay
	}
	if o.MaxDelay == 0 {
		o.MaxDelay = DefaultLoginMaxDelay
	}
	if o.MaxAddressFailures == 0 {
		o.MaxAddressFailures = DefaultLoginMaxAddressFailures
	}
	if o.Window < 0 || o.BaseDelay < 0 || o.MaxDelay < o.BaseDelay {
		return errorf("LoginThrottle: Window and BaseDelay must not be negative, MaxDelay not below BaseDelay")
	}
	return nil
}

// LoginThrottle slows down password guessing (RFC 6749 §4.3.2, §10.10;
// RFC 6819 §5.1.4.2.3; ). It counts failures only:
// per account, where failures beyond FreeFailures impose a growing delay
// (never a lock), and per source address, which is refused after
// MaxAddressFailures until its window ends. Successful logins are never
// counted and never reset the address counter.
//
// Every attempt is charged as a failure before the password is checked
// ([LoginThrottle.Attempt]) and the charge is given back when it succeeds
// ([LoginThrottle.Succeeded]): concurrent guesses cannot all slip through
// before the first failure is recorded.
//
// Its counters live in the model's [CounterModel] when it has one, so that
// every instance shares them. The Server's own throttle
// ([Server.LoginThrottle]) guards the password grant; use the same one for
// a login page, so that both draw from one budget per account.
type LoginThrottle struct {
	store CounterModel
	opts  LoginThrottleOptions
	now   func() time.Time
}

// NewLoginThrottle returns a throttle keeping its counters in store (nil:
// in process memory, for a single instance). now may be nil (time.Now).
func NewLoginThrottle(store CounterModel, opts LoginThrottleOptions, now func() time.Time) (*LoginThrottle, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	if store == nil {
		store = newMemoryCounters()
	}
	if now == nil {
		now = time.Now
	}
	return &LoginThrottle{store: store, opts: opts, now: now}, nil
}

// Attempt asks whether a login for account from address (see
// [Server.ClientAddress]) may proceed, and charges it as a failure if so.
// A positive wait means refused: answer without verifying the password
// (429 with Retry-After, or a page), so a refused attempt tells nothing and
// costs nothing. After wait 0, verify the password and call
// [LoginThrottle.Succeeded] if it was right; a wrong one needs no call.
// account may be empty (the address alone is throttled), and so may
// address.
func (t *LoginThrottle) Attempt(ctx context.Context, account, address string) (wait time.Duration, err error) {
	if t == nil || t.opts.Disabled {
		return 0, nil
	}
	now := t.now()
	var charged []string // refunded when the attempt is refused
	defer func() {
		if wait > 0 || err != nil {
			// A refund must happen even when the request was cancelled.
			rctx := context.WithoutCancel(ctx)
			for _, k := range charged {
				_, _ = t.store.AddCounter(rctx, k, -1, t.opts.Window, now)
			}
		}
	}()
	if address != "" && t.opts.MaxAddressFailures > 0 {
		k := counterKey("login-addr", address)
		c, err := t.store.AddCounter(ctx, k, 1, t.opts.Window, now)
		if err != nil {
			return 0, err
		}
		charged = append(charged, k)
		if c.Count > int64(t.opts.MaxAddressFailures) {
			return max(c.ExpiresAt.Sub(now), time.Second), nil
		}
	}
	if account == "" {
		return 0, nil
	}
	hold := counterKey("login-hold", account)
	if c, err := t.store.GetCounter(ctx, hold, now); err != nil {
		return 0, err
	} else if c.Count > 0 {
		return max(c.ExpiresAt.Sub(now), time.Second), nil
	}
	k := counterKey("login-fail", account)
	c, err := t.store.AddCounter(ctx, k, 1, t.opts.Window, now)
	if err != nil {
		return 0, err
	}
	charged = append(charged, k)
	over := c.Count - int64(max(t.opts.FreeFailures, 0))
	if over <= 0 {
		return 0, nil
	}
	// Beyond the free failures, one attempt per delay: the attempt that
	// starts the hold (a counter whose window is the delay) proceeds, and
	// every other one finds the hold live until the delay has passed.
	delay := t.opts.BaseDelay << min(over-1, maxLoginDelayDoublings)
	if delay <= 0 || delay > t.opts.MaxDelay {
		delay = t.opts.MaxDelay
	}
	h, err := t.store.AddCounter(ctx, hold, 1, delay, now)
	if err != nil {
		return 0, err
	}
	if h.Count > 1 {
		return max(h.ExpiresAt.Sub(now), time.Second), nil
	}
	return 0, nil
}

// Succeeded gives back the charge of an [LoginThrottle.Attempt] whose
// password was right, so successful logins never count.
func (t *LoginThrottle) Succeeded(ctx context.Context, account, address string) error {
	if t == nil || t.opts.Disabled {
		return nil
	}
	now := t.now()
	ctx = context.WithoutCancel(ctx) // a refund must happen even when the request was cancelled
	if address != "" && t.opts.MaxAddressFailures > 0 {
		if _, err := t.store.AddCounter(ctx, counterKey("login-addr", address), -1, t.opts.Window, now); err != nil {
			return err
		}
	}
	if account != "" {
		if _, err := t.store.AddCounter(ctx, counterKey("login-fail", account), -1, t.opts.Window, now); err != nil {
			return err
		}
	}
	return nil
}

// counterKey is purpose:digest(value): fixed length whatever the client
// sent, and no username or address stored in clear in the counter store.
func counterKey(purpose, value string) string {
	sum := sha256.Sum256([]byte(value))
	return purpose + ":" + base64.RawURLEncoding.EncodeToString(sum[:counterKeyDigestBytes])
}

// memoryCounters is the in-process [CounterModel] used when the model has
// none: bounded, single instance only.
type memoryCounters struct{ store *counter.Store }

func newMemoryCounters() memoryCounters { return memoryCounters{store: counter.New(0)} }

func (m memoryCounters) AddCounter(_ context.Context, key string, delta int64, window time.Duration, now time.Time) (Counter, error) {
	n, exp := m.store.Add(key, delta, window, now)
	return Counter{Count: n, ExpiresAt: exp}, nil
}

func (m memoryCounters) GetCounter(_ context.Context, key string, now time.Time) (Counter, error) {
	n, exp := m.store.Get(key, now)
	return Counter{Count: n, ExpiresAt: exp}, nil
}

// ClientAddress returns the source address of r for the throttles: the
// peer address, or, when the peer is one of [Options.TrustedProxies], the
// nearest address in X-Forwarded-For that is not a trusted proxy. IPv6
// addresses are grouped by /64, the block one subscriber usually gets
// so "2001:db8:1:2::/64" stands for all of them. It
// returns "" when the address cannot be parsed.
func (s *Server) ClientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	peer = peer.Unmap()
	if s.trustedProxy(peer) {
		// Walk X-Forwarded-For from the right: each trusted proxy appended
		// the address it saw; the first untrusted one is the client.
		// Anything left of it may have been written by the client, so it
		// is never split or parsed, and at most maxForwardedHops hops are.
		hops := r.Header.Values("X-Forwarded-For")
		n := 0
		for i := len(hops) - 1; i >= 0; i-- {
			for rest := hops[i]; rest != ""; {
				var hop string
				if k := strings.LastIndexByte(rest, ','); k >= 0 {
					rest, hop = rest[:k], rest[k+1:]
				} else {
					rest, hop = "", rest
				}
				if n++; n > maxForwardedHops {
					return groupAddress(peer)
				}
				a, err := netip.ParseAddr(strings.TrimSpace(hop))
				if err != nil {
					return groupAddress(peer)
				}
				a = a.Unmap()
				peer = a
				if !s.trustedProxy(a) {
					return groupAddress(a)
				}
			}
		}
	}
	return groupAddress(peer)
}

// maxForwardedHops bounds the X-Forwarded-For hops ClientAddress reads: a
// chain of trusted proxies is a handful long.
const maxForwardedHops = 16

func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// groupAddress is the address itself for IPv4 and its /64 for IPv6.
func groupAddress(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// ClaimOnce reports whether this is the first claim of value for purpose
// within ttl: of any number of claims, concurrent ones and ones on other
// instances included, exactly one gets true. The authorization endpoints
// of packages handlers and nethttp spend consent forms with it; use it for
// anything else that must be single use (a form, a nonce, a one-time
// link). value is stored only as a digest.
//
// The claim is a counter of the model's [CounterModel], so its guarantee
// is the store's: shared by every instance when the model implements it,
// per process otherwise (where a full in-process store may forget the
// claims closest to expiry).
func (s *Server) ClaimOnce(ctx context.Context, purpose, value string, ttl time.Duration) (bool, error) {
	c, err := s.counters.AddCounter(ctx, counterKey("once-"+purpose, value), 1, ttl, s.now())
	if err != nil {
		return false, storeError("AddCounter", err)
	}
	return c.Count == 1, nil
}

// ReleaseClaim undoes the caller's own successful claim made with
// [Server.ClaimOnce], when its request then failed for a reason of the
// server's (a storage fault): the value may be claimed again. If another
// caller also tried to claim the value meanwhile, it stays spent, which
// errs on the safe side. Never call it when the claimed value was used.
func (s *Server) ReleaseClaim(ctx context.Context, purpose, value string, ttl time.Duration) error {
	if _, err := s.counters.AddCounter(context.WithoutCancel(ctx), counterKey("once-"+purpose, value), -1, ttl, s.now()); err != nil {
		return storeError("AddCounter", err)
	}
	return nil
}
