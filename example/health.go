package main

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Readiness checks: each waits at most readyTimeout for the store, and a
// result is reused for readyTTL, so that however often /readyz is asked
// (by a stranger too) the store is pinged at most once per readyTTL.
const (
	readyTimeout = 2 * time.Second
	readyTTL     = time.Second
)

// readiness answers whether the store can serve: MongoDB answers a ping.
type readiness struct {
	// check pings the store; nil means always ready (in memory).
	check  func(context.Context) error
	logger *slog.Logger

	mu        sync.Mutex // held during a check: one at a time
	checkedAt time.Time
	ok        bool
}

// ready reports whether the last check, at most readyTTL old, succeeded.
// A change is logged once, with the cause only in the log.
func (r *readiness) ready(ctx context.Context) bool {
	if r.check == nil {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.checkedAt.IsZero() && time.Since(r.checkedAt) < readyTTL {
		return r.ok
	}
	// The check outlives an impatient prober: its result serves the next.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
	defer cancel()
	err := r.check(ctx)
	ok := err == nil
	switch {
	case !ok && (r.ok || r.checkedAt.IsZero()):
		r.logger.WarnContext(ctx, "example: not ready: the store does not answer", "error", err)
	case ok && !r.ok && !r.checkedAt.IsZero():
		r.logger.InfoContext(ctx, "example: ready again: the store answers")
	}
	r.ok, r.checkedAt = ok, time.Now()
	return ok
}

// healthz is the liveness probe: the process serves HTTP. It asks nothing
// of the store, so that an orchestrator does not restart every instance
// when the database is away.
func (a *app) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// readyz is the readiness probe: 200 when the store answers, 503 when
// not. The body says no more than that.
func (a *app) readyz(c echo.Context) error {
	if !a.readiness.ready(c.Request().Context()) {
		return c.String(http.StatusServiceUnavailable, "not ready\n")
	}
	return c.String(http.StatusOK, "ready\n")
}
