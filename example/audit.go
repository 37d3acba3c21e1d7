package main

import (
	"context"
	"encoding/json"
	"io"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/echo-oauth2/oauth2server"
)

// auditLogger returns the Options.OnEvent hook that writes each event as
// one JSON line to w, or nil (no events) when w is nil. A line is written
// whole under a lock, so concurrent events never interleave.
func auditLogger(w io.Writer) func(context.Context, oauth2server.Event) {
	if w == nil {
		return nil
	}
	var mu sync.Mutex
	return func(_ context.Context, e oauth2server.Event) {
		b, err := json.Marshal(e)
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(append(b, '\n'))
	}
}

// audit records an event of the example's own pages (logins) with the
// request's client address. Usernames of failed logins are digests
// (accountDigest): users type passwords into the username field.
func (a *app) audit(c echo.Context, e oauth2server.Event) {
	r := c.Request()
	if e.Address == "" {
		e.Address = a.srv.ClientAddress(r)
	}
	a.srv.Record(r.Context(), e)
}
