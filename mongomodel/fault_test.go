package mongomodel_test

import (
	"bufio"
	"bytes"
	"context"
	stderrors "errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/echo-oauth2/oauth2server"
	"github.com/echo-oauth2/oauth2server/mongomodel"
)

// unavailable skips the test, or fails it when CI=true.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// buildMongotest builds the repository's tools/mongotest command (its own
// Go module) into a temporary directory.
func buildMongotest(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "tools", "mongotest"))
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		unavailable(t, "tools/mongotest not found: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "mongotest")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		unavailable(t, "building tools/mongotest: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address with a port that was free just now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// startMongotest starts the server on addr and returns its process and
// URI. The process is killed when the test ends.
func startMongotest(t *testing.T, bin, addr string) (*os.Process, string) {
	t.Helper()
	cmd := exec.Command(bin, "-addr", addr)
	cmd.Stderr = io.Discard
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	uri := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		uri <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case u := <-uri:
		require.True(t, strings.HasPrefix(u, "mongodb://"), "mongotest printed %q", u)
		return cmd.Process, u
	case <-time.After(60 * time.Second):
		t.Fatal("mongotest did not print its URI within 60s")
		return nil, ""
	}
}

// signalAndWait sends sig (SIGSTOP or SIGCONT) to proc and waits until
// every thread of it is stopped, or none is. kill(2) returns before the
// signal takes effect: on a loaded machine the server may answer a few
// more requests after SIGSTOP was sent.
func signalAndWait(t *testing.T, proc *os.Process, sig syscall.Signal) {
	t.Helper()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/task", proc.Pid)); err != nil {
		unavailable(t, "needs /proc to see the server stop: %v", err)
	}
	require.NoError(t, proc.Signal(sig))
	wantStopped := sig == syscall.SIGSTOP
	deadline := time.Now().Add(20 * time.Second)
	for {
		states, err := threadStates(proc.Pid)
		require.NoError(t, err)
		stopped := strings.Count(states, "T")
		if wantStopped && stopped == len(states) || !wantStopped && stopped == 0 {
			return
		}
		require.True(t, time.Now().Before(deadline), "after %s, thread states %q", sig, states)
		time.Sleep(5 * time.Millisecond)
	}
}

// threadStates returns the state letter of every live thread of process
// pid: the field after the command name in /proc/PID/task/TID/stat
// (proc(5); "T" is stopped by a signal).
func threadStates(pid int) (string, error) {
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil {
		return "", err
	}
	var states strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if stderrors.Is(err, fs.ErrNotExist) {
			continue // the thread exited
		}
		if err != nil {
			return "", err
		}
		// The command name is in parentheses and may contain any byte.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) {
			return "", fmt.Errorf("%s: unexpected %q", f, b)
		}
		if st := b[i+2]; st != 'Z' && st != 'X' {
			states.WriteByte(st)
		}
	}
	if states.Len() == 0 {
		return "", fmt.Errorf("process %d has no live thread", pid)
	}
	return states.String(), nil
}

// lockedBuffer is a log destination safe for concurrent requests.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// assertServerError checks a token response for a storage fault: 503
// server_error, no token, nothing cached, no cause in the body.
func assertServerError(t *testing.T, r tokenResult) {
	t.Helper()
	assert.Equal(t, http.StatusServiceUnavailable, r.status, r.body)
	assert.Equal(t, "server_error", r.body["error"])
	assert.NotContains(t, r.body, "access_token")
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	assert.NotContains(t, r.body["error_description"], "mongo")
}

// TestStorageOutage stops the MongoDB server under a running Server: the
// token endpoint answers server_error, never panics and never hands out a
// token it did not store; when the server is back, service resumes and
// the earlier tokens are still valid.
func TestStorageOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own MongoDB server")
	}
	bin := buildMongotest(t)
	addr := freeAddr(t)
	proc, uri := startMongotest(t, bin, addr)

	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(time.Second))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	m := mongomodel.New(client.Database("outage"), mongomodel.Options{Timeout: time.Second})
	require.NoError(t, m.EnsureIndexes(ctx))
	app := &oauth2server.Client{ID: "app", SecretHash: oauth2server.HashSecret("s3cret"),
		Grants: []string{oauth2server.GrantClientCredentials}, Scopes: []string{"read"}}
	require.NoError(t, m.AddClient(ctx, app))
	var logs lockedBuffer
	srv, err := oauth2server.New(m, oauth2server.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	cc := url.Values{"grant_type": {"client_credentials"}}

	first := postToken(t, srv, cc)
	require.Equal(t, http.StatusOK, first.status, first.body)

	t.Run("ok, paused server: server_error, then service resumes with earlier tokens valid", func(t *testing.T) {
		signalAndWait(t, proc, syscall.SIGSTOP)
		start := time.Now()
		assertServerError(t, postToken(t, srv, cc))
		// Options.Timeout is 1 s; the margin absorbs a loaded 2-core CI machine.
		assert.Less(t, time.Since(start), 15*time.Second, "bounded by Options.Timeout")
		// Whichever model call the pause hit (GetClient, GetUserFromClient,
		// SaveToken), its wrapped cause goes to the log.
		assert.Contains(t, logs.String(), "mongomodel: ", "the cause goes to the log")

		signalAndWait(t, proc, syscall.SIGCONT)
		var next tokenResult
		require.Eventually(t, func() bool {
			next = postToken(t, srv, cc)
			return next.status == http.StatusOK
		}, 20*time.Second, 100*time.Millisecond, "service resumes")
		for _, r := range []tokenResult{first, next} {
			tok, err := m.GetAccessToken(ctx, r.body["access_token"].(string))
			require.NoError(t, err)
			require.NotNil(t, tok, "every token handed out is stored")
			assert.False(t, tok.Revoked)
			assert.True(t, tok.AccessTokenExpiresAt.After(time.Now()))
		}
	})

	t.Run("ok, server killed mid-run: a token or server_error, never a panic", func(t *testing.T) {
		var (
			mu      sync.Mutex
			results []tokenResult
			stop    = make(chan struct{})
			wg      sync.WaitGroup
		)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					r := postToken(t, srv, cc)
					mu.Lock()
					results = append(results, r)
					mu.Unlock()
				}
			}()
		}
		// Kill only once tokens are flowing: on a loaded machine 300 ms
		// may pass before the first request is answered.
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range results {
				if r.status == http.StatusOK {
					return true
				}
			}
			return false
		}, 20*time.Second, 10*time.Millisecond, "tokens are issued before the kill")
		require.NoError(t, proc.Kill())
		_, _ = proc.Wait()
		// Keep the requests going until failures come back, however long
		// a loaded machine takes, not for a fixed time.
		mu.Lock()
		killedAt := len(results)
		mu.Unlock()
		assert.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range results[killedAt:] {
				if r.status != http.StatusOK {
					return true
				}
			}
			return false
		}, 20*time.Second, 10*time.Millisecond, "server_error answers after the kill")
		close(stop)
		wg.Wait()

		var ok, failed int
		for _, r := range results {
			switch r.status {
			case http.StatusOK:
				ok++
				assert.NotEmpty(t, r.body["access_token"])
			default:
				failed++
				assertServerError(t, r)
			}
		}
		t.Logf("%d tokens issued before the kill, %d server_error answers", ok, failed)
		assert.Positive(t, ok)
		assert.Positive(t, failed)
		assertServerError(t, postToken(t, srv, cc))
	})

	t.Run("ok, server restarted on the same port: service resumes", func(t *testing.T) {
		// tools/mongotest keeps no data across restarts, so the client is
		// registered again; the point is that the same Server and driver
		// client recover without a restart of their own.
		startMongotest(t, bin, addr)
		require.Eventually(t, func() bool {
			err := m.AddClient(ctx, app)
			return err == nil
		}, 20*time.Second, 100*time.Millisecond, "driver reconnects")
		r := postToken(t, srv, cc)
		require.Equal(t, http.StatusOK, r.status, r.body)
		tok, err := m.GetAccessToken(ctx, r.body["access_token"].(string))
		require.NoError(t, err)
		assert.NotNil(t, tok)
	})
}
