package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// `go run ./example` with a free port: it prints where it listens and the
// demo URL, serves, and stops cleanly when its context ends (SIGINT).
func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, &out) }()

	listening := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)\n`)
	var base string
	require.Eventually(t, func() bool {
		m := listening.FindStringSubmatch(out.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}, 30*time.Second, 20*time.Millisecond, "no banner: %s", out.String())
	assert.Contains(t, out.String(), base+demoPath+"\n", "the demo URL uses the real port")

	resp, err := http.Get(base + loginPath)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	var testCases = []struct {
		name        string
		givenArgs   []string
		expectError string
	}{
		{name: "nok, unknown flag", givenArgs: []string{"-nope"}, expectError: "flag provided but not defined"},
		{name: "nok, missing config file", givenArgs: []string{"-config", "/nonexistent/config.json"}, expectError: "no such file"},
		{name: "nok, bad address", givenArgs: []string{"-addr", "nonsense"}, expectError: "missing port"},
		{name: "nok, key without -jwt or OpenID", givenArgs: []string{"-addr", "127.0.0.1:0", "-openid=false", "-signing-key", "k.pem"}, expectError: "-signing-key needs -jwt or OpenID Connect"},
		{name: "nok, missing key file", givenArgs: []string{"-addr", "127.0.0.1:0", "-signing-key", "/nonexistent/k.pem"}, expectError: "no such file"},
		{name: "nok, -jwt without key", givenArgs: []string{"-addr", "127.0.0.1:0", "-jwt"}, expectError: "-jwt needs -signing-key FILE"},
		{name: "nok, -mongo-uri without -session-key", givenArgs: []string{"-addr", "127.0.0.1:0", "-mongo-uri", "mongodb://127.0.0.1:1/"}, expectError: "-mongo-uri needs -session-key"},
		{name: "nok, short session key", givenArgs: []string{"-session-key", "c2hvcnQ="}, expectError: `invalid value "c2hvcnQ=" for flag -session-key: shorter than 32 bytes`},
		{name: "nok, session key not base64", givenArgs: []string{"-session-key", "not base64!"}, expectError: "not base64"},
		{name: "nok, zero shutdown timeout", givenArgs: []string{"-shutdown-timeout", "0s"}, expectError: "-shutdown-timeout must be positive"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tc.givenArgs, &out)
			assert.ErrorContains(t, err, tc.expectError)
		})
	}
}
