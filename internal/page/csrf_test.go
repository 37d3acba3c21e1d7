package page

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCSRF(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	c := &CSRF{Key: []byte(strings.Repeat("k", 32)), MaxAge: 10 * time.Minute, Label: "form a"}
	tok := c.Token(now, "alice", "s1", "q=1")
	assert.Len(t, strings.Split(tok, "."), 3, "time.nonce.mac")
	assert.NotEqual(t, tok, c.Token(now, "alice", "s1", "q=1"), "a fresh nonce per form")

	other := &CSRF{Key: c.Key, MaxAge: c.MaxAge, Label: "form b"}
	otherKey := &CSRF{Key: []byte(strings.Repeat("x", 32)), MaxAge: c.MaxAge, Label: c.Label}
	var testCases = []struct {
		name     string
		whenCSRF *CSRF
		whenTok  string
		whenNow  time.Time
		whenBind []string
		expect   bool
	}{
		{name: "ok, same binding", whenCSRF: c, whenTok: tok, whenNow: now, whenBind: []string{"alice", "s1", "q=1"}, expect: true},
		{name: "ok, at MaxAge", whenCSRF: c, whenTok: tok, whenNow: now.Add(10 * time.Minute), whenBind: []string{"alice", "s1", "q=1"}, expect: true},
		{name: "ok, a clock a little behind", whenCSRF: c, whenTok: tok, whenNow: now.Add(-CSRFSkew), whenBind: []string{"alice", "s1", "q=1"}, expect: true},
		{name: "nok, expired", whenCSRF: c, whenTok: tok, whenNow: now.Add(10*time.Minute + time.Second), whenBind: []string{"alice", "s1", "q=1"}},
		{name: "nok, from the future", whenCSRF: c, whenTok: tok, whenNow: now.Add(-CSRFSkew - time.Second), whenBind: []string{"alice", "s1", "q=1"}},
		{name: "nok, another user", whenCSRF: c, whenTok: tok, whenNow: now, whenBind: []string{"mallory", "s1", "q=1"}},
		{name: "nok, parts shifted", whenCSRF: c, whenTok: tok, whenNow: now, whenBind: []string{"alices1", "", "q=1"}},
		{name: "nok, fewer parts", whenCSRF: c, whenTok: tok, whenNow: now, whenBind: []string{"alice", "s1"}},
		{name: "nok, another label", whenCSRF: other, whenTok: tok, whenNow: now, whenBind: []string{"alice", "s1", "q=1"}},
		{name: "nok, another key", whenCSRF: otherKey, whenTok: tok, whenNow: now, whenBind: []string{"alice", "s1", "q=1"}},
		{name: "nok, empty", whenCSRF: c, whenTok: "", whenNow: now},
		{name: "nok, not three parts", whenCSRF: c, whenTok: "1.2", whenNow: now},
		{name: "nok, bad time", whenCSRF: c, whenTok: "x" + tok, whenNow: now, whenBind: []string{"alice", "s1", "q=1"}},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.expect, tc.whenCSRF.Check(tc.whenTok, tc.whenNow, tc.whenBind...))
		})
	}
}
