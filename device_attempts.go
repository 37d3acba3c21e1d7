package oauth2server

import (
	"sync"
	"time"
)

// maxAttemptKeys caps the memory of the per-key counters. When that many
// keys are live, a new key is not tracked and only the global limit
// applies to it, which still bounds guessing.
const maxAttemptKeys = 1 << 16

// attemptLimiter counts unknown user codes in fixed windows, per key and
// in total (RFC 8628 §5.1: rate-limit user code attempts). It lives in the
// Server, so it bounds one process; several instances multiply the budget.
type attemptLimiter struct {
	perKey, global int // limits; <= 0 disables one
	window         time.Duration
	maxKeys        int

	mu          sync.Mutex
	globalCount int
	globalStart time.Time
	keys        map[string]*attemptWindow
}

type attemptWindow struct {
	count int
	start time.Time
}

func newAttemptLimiter(perKey, global int, window time.Duration) *attemptLimiter {
	return &attemptLimiter{perKey: perKey, global: global, window: window, maxKeys: maxAttemptKeys,
		keys: make(map[string]*attemptWindow)}
}

// take charges one attempt to key (may be empty) and to the global budget.
// It reports false, charging nothing, when either budget is exhausted.
func (l *attemptLimiter) take(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.globalStart) >= l.window {
		l.globalStart, l.globalCount = now, 0
	}
	if l.global > 0 && l.globalCount >= l.global {
		return false
	}
	var w *attemptWindow
	if key != "" && l.perKey > 0 {
		w = l.keys[key]
		if w != nil && now.Sub(w.start) >= l.window {
			w.start, w.count = now, 0
		}
		if w == nil {
			if len(l.keys) >= l.maxKeys {
				l.pruneLocked(now)
			}
			if len(l.keys) < l.maxKeys {
				w = &attemptWindow{start: now}
				l.keys[key] = w
			}
		}
		if w != nil && w.count >= l.perKey {
			return false
		}
	}
	l.globalCount++
	if w != nil {
		w.count++
	}
	return true
}

// refund gives back an attempt that found a request: only unknown codes
// count. A refund after a window rolled over is simply lost.
func (l *attemptLimiter) refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.globalCount > 0 {
		l.globalCount--
	}
	if w := l.keys[key]; w != nil && w.count > 0 {
		w.count--
	}
}

func (l *attemptLimiter) pruneLocked(now time.Time) {
	for k, w := range l.keys {
		if now.Sub(w.start) >= l.window {
			delete(l.keys, k)
		}
	}
}
