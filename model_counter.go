package oauth2server

import (
	"context"
	"time"
)

// Counter is the state of one throttle counter of a [CounterModel].
type Counter struct {
	// Count is the number of increments since the counter (re)started.
	Count int64
	// ExpiresAt is when the counter's window ends and it starts again at
	// zero. It is fixed when the counter starts: increments never move it.
	ExpiresAt time.Time
}

// CounterModel is a store of counters with expiry, the state behind every
// throttle of the Server: pending device authorizations per client and per
// source address, unknown user codes, failed password logins
// ([LoginThrottle]). Implement it in the shared database so that every
// instance of a deployment draws from the same budgets; N
// instances with per-process counters allow N times every limit.
//
// Without it the Server keeps the counters in process memory (bounded, the
// entries closest to expiry are dropped first when full), which is right
// for a single instance only.
//
// Keys are short ASCII strings built by the Server (a purpose prefix and a
// digest of the account, client or address), never raw usernames.
type CounterModel interface {
	// AddCounter atomically adds delta to the counter named key and
	// returns its new state. A counter that does not exist, or whose
	// ExpiresAt is not after now, first starts again from zero with
	// ExpiresAt now+window. The Server adds 1 to charge an attempt and -1
	// to give back the charge of one that succeeded, so Count may briefly
	// be negative after a window restarted. Concurrent calls on one key
	// must never lose an update: with n concurrent calls adding 1 to a new
	// counter, each sees a different Count from 1 to n.
	AddCounter(ctx context.Context, key string, delta int64, window time.Duration, now time.Time) (Counter, error)
	// GetCounter returns the counter named key, or the zero Counter when
	// it does not exist or has expired at now.
	GetCounter(ctx context.Context, key string, now time.Time) (Counter, error)
}
