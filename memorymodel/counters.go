package memorymodel

import (
	"context"
	"time"

	"github.com/echo-oauth2/oauth2server"
)

var _ oauth2server.CounterModel = (*Model)(nil)

// AddCounter implements [oauth2server.CounterModel]. The counters have a
// lock of their own, not the model's mutex, so throttles never wait for
// token writes. They expire by the now argument, not by the model's clock
// ([WithClock]). Like the Server's own fallback they are bounded: when
// full, the counters closest to their end are dropped first.
func (m *Model) AddCounter(ctx context.Context, key string, delta int64, window time.Duration, now time.Time) (oauth2server.Counter, error) {
	if err := ctx.Err(); err != nil {
		return oauth2server.Counter{}, err
	}
	n, end := m.counters.Add(key, delta, window, now)
	return oauth2server.Counter{Count: n, ExpiresAt: end}, nil
}

// GetCounter implements [oauth2server.CounterModel].
func (m *Model) GetCounter(ctx context.Context, key string, now time.Time) (oauth2server.Counter, error) {
	if err := ctx.Err(); err != nil {
		return oauth2server.Counter{}, err
	}
	n, end := m.counters.Get(key, now)
	return oauth2server.Counter{Count: n, ExpiresAt: end}, nil
}
