package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildExample builds ./example of the repository at root into dir.
func buildExample(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "example")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./example")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./example: %w", err)
	}
	return bin, nil
}

// exampleServer is a running example binary.
type exampleServer struct {
	cmd  *exec.Cmd
	base *url.URL
	log  string
	done chan error
}

var listeningRe = regexp.MustCompile(`listening on (\S+)`)

// startExample starts bin on a free loopback port with args and waits
// until it answers. Its stderr (the log) goes to logPath, its stdout (the
// banner) to logPath.out.
func startExample(ctx context.Context, bin string, args []string, logPath string) (*exampleServer, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	outf, err := os.Create(logPath + ".out")
	if err != nil {
		logf.Close()
		return nil, err
	}
	// -addr first: a later -addr in args wins (flag keeps the last).
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		outf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		outf.Close()
		return nil, err
	}
	s := &exampleServer{cmd: cmd, log: logPath, done: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(outf, line)
			if m := listeningRe.FindStringSubmatch(line); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		_, _ = io.Copy(outf, stdout)
	}()
	go func() {
		err := cmd.Wait()
		logf.Close()
		outf.Close()
		s.done <- err
	}()

	fail := func(err error) (*exampleServer, error) {
		s.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, logPath)
	}
	select {
	case addr := <-found:
		u, err := url.Parse(addr)
		if err != nil {
			return fail(fmt.Errorf("example printed %q: %w", addr, err))
		}
		s.base = &url.URL{Scheme: "http", Host: u.Host}
	case err := <-s.done:
		s.done <- err
		return fail(fmt.Errorf("example exited before listening: %v", err))
	case <-time.After(2 * time.Minute):
		return fail(errors.New("example did not print its address within 2 minutes"))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	if err := checkLoopback(s.base); err != nil {
		return fail(err)
	}
	if err := waitReady(ctx, s.base, 30*time.Second); err != nil {
		return fail(err)
	}
	return s, nil
}

// checkLoopback refuses any host other than 127.0.0.1.
func checkLoopback(u *url.URL) error {
	if u.Hostname() != "127.0.0.1" {
		return fmt.Errorf("%s: only 127.0.0.1 may be flooded", u)
	}
	return nil
}

// waitReady polls the home page until it answers.
func waitReady(ctx context.Context, base *url.URL, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base.String()+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %v", base, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *exampleServer) pid() int { return s.cmd.Process.Pid }

// stop sends SIGTERM (the example shuts down gracefully) and SIGKILL after
// 10 s.
func (s *exampleServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		s.done <- <-s.done
	}
}

// exited reports whether the process has ended, and how.
func (s *exampleServer) exited() (bool, error) {
	select {
	case err := <-s.done:
		s.done <- err
		return true, err
	default:
		return false, nil
	}
}

// logSize returns the current size of the server's log.
func (s *exampleServer) logSize() int64 {
	fi, err := os.Stat(s.log)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logProblems counts the lines of the server's log from offset on that are
// not level=INFO (errors, warnings, net/http's own complaints) and returns
// the first one.
func (s *exampleServer) logProblems(offset int64) (n int, first string) {
	b, err := os.ReadFile(s.log)
	if err != nil || int64(len(b)) < offset {
		return 0, ""
	}
	for _, line := range strings.Split(string(b[offset:]), "\n") {
		if strings.TrimSpace(line) == "" || strings.Contains(line, "level=INFO") {
			continue
		}
		if n == 0 {
			first = line
			if len(first) > 300 {
				first = first[:300] + "…"
			}
		}
		n++
	}
	return n, first
}

// memStatus reads VmRSS and VmHWM (peak RSS) of pid, in bytes.
func memStatus(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("/proc/%d/status: %s: %q", pid, k, v)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
	}
	return rss, hwm, nil
}

// rssSampler reads the RSS of a process every interval.
type rssSampler struct {
	mu      sync.Mutex
	peak    int64
	last    int64
	samples int
	err     error
	stopc   chan struct{}
	done    chan struct{}
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	take := func() {
		rss, _, err := memStatus(pid)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			if s.err == nil {
				s.err = err
			}
			return
		}
		s.samples++
		s.last = rss
		s.peak = max(s.peak, rss)
	}
	take()
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stopc:
				take()
				return
			case <-t.C:
				take()
			}
		}
	}()
	return s
}

func (s *rssSampler) current() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// stop takes a last sample and returns the peak, the last sample and the
// number of samples.
func (s *rssSampler) stop() (peak, last int64, samples int, err error) {
	close(s.stopc)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak, s.last, s.samples, s.err
}
