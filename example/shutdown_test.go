package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inFlight reads oauth2server_http_requests_in_flight from /metrics, -1
// when it cannot.
func inFlight(base string) float64 {
	resp, err := http.Get(base + metricsPath)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "oauth2server_http_requests_in_flight "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// SIGTERM with a request in flight: the example stops accepting
// connections, answers that request, closes the store (the MongoDB client)
// and exits 0. A request that is still unfinished after -shutdown-timeout
// is cut, and the exit status says so.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	bin := exampleBinary(t)
	var testCases = []struct {
		name          string
		givenArgs     func(t *testing.T) []string
		whenStalled   bool // the client never sends the rest of its body
		expectLogLine string
	}{
		{name: "ok, in memory", givenArgs: func(*testing.T) []string { return nil }, expectLogLine: "example: stopped"},
		{name: "ok, MongoDB", givenArgs: func(t *testing.T) []string {
			return []string{"-mongo-uri", mongoURI(t), "-session-key", base64.StdEncoding.EncodeToString(newSessionKey(t)),
				"-signing-key", testSigningKey}
		}, expectLogLine: "example: stopped"},
		{name: "nok, a stalled request outlives -shutdown-timeout", givenArgs: func(*testing.T) []string {
			return []string{"-shutdown-timeout", "300ms"}
		}, whenStalled: true, expectLogLine: "requests still in flight after -shutdown-timeout 300ms"},
	}
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := tc.givenArgs(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := ln.Addr().String()
			require.NoError(t, ln.Close()) // the process takes the port over
			cmd := exec.Command(bin, append([]string{"-addr", addr}, args...)...)
			out := &syncBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			require.NoError(t, cmd.Start())
			exited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(exited) }()
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			base := "http://" + addr
			require.Eventually(t, func() bool {
				resp, err := http.Get(base + healthPath)
				if err != nil {
					return false
				}
				_ = resp.Body.Close()
				return resp.StatusCode == http.StatusOK
			}, 30*time.Second, 50*time.Millisecond, "the example did not start: %s", out)

			// A token request whose body is still on its way: the handler
			// waits for it, so the request stays in flight.
			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer conn.Close()
			body := "grant_type=client_credentials&scope=read"
			_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"+
				"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
				tokenPath, addr, base64.StdEncoding.EncodeToString([]byte(demoConfidentialClient+":"+demoClientSecret)),
				len(body), body[:10])
			require.NoError(t, err)
			require.Eventually(t, func() bool {
				return inFlight(base) == 2 // the scrape and the token request
			}, 10*time.Second, 20*time.Millisecond, "the token request reaches its handler")

			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			require.Eventually(t, func() bool {
				c, err := net.DialTimeout("tcp", addr, time.Second)
				if err == nil {
					_ = c.Close()
				}
				return err != nil
			}, 10*time.Second, 20*time.Millisecond, "no new connections once the signal arrived")

			br := bufio.NewReader(conn)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
			if tc.whenStalled {
				_, err := br.ReadByte()
				assert.ErrorIs(t, err, io.EOF, "the stalled request's connection is cut")
			} else {
				select {
				case <-exited:
					t.Fatalf("the example exited with a request in flight: %s", out)
				case <-time.After(200 * time.Millisecond):
				}
				_, err = conn.Write([]byte(body[10:]))
				require.NoError(t, err)
				resp, err := http.ReadResponse(br, nil)
				require.NoError(t, err, "the request in flight is answered")
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				var tok struct {
					AccessToken string `json:"access_token"`
				}
				assert.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
				assert.NotEmpty(t, tok.AccessToken)
				_, _ = io.Copy(io.Discard, resp.Body)
				_, err = br.ReadByte()
				assert.ErrorIs(t, err, io.EOF, "and its connection is closed after it")
			}

			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				t.Fatalf("the example did not exit: %s", out)
			}
			expectStatus := 0
			if tc.whenStalled {
				expectStatus = 1
			}
			assert.Equal(t, expectStatus, cmd.ProcessState.ExitCode(), "exit status: %s", out)
			logs := out.String()
			assert.Contains(t, logs, "example: shutting down: draining requests in flight")
			assert.Contains(t, logs, tc.expectLogLine)
			assert.Less(t, strings.Index(logs, "shutting down"), strings.Index(logs, tc.expectLogLine))
		})
	}
}
