// Command mongotest runs a throwaway MongoDB wire-protocol server for tests.
//
// It embeds FerretDB (github.com/FerretDB/FerretDB/ferretdb, v1.24.0) with
// the "sqlite" handler, storing data in a fresh temporary directory that is
// removed on exit. The server listens on loopback only.
//
// Why a separate module: FerretDB pulls in a large dependency tree (SQLite,
// PostgreSQL driver, metrics, ...). Keeping this command in its own Go module
// (tools/mongotest, with its own go.mod) keeps all of that out of the
// library's go.mod. The test harness (scripts/mongotest.sh, used by the
// Makefile) builds this command and points the MongoDB-backed tests at it.
//
// Usage:
//
//	mongotest [-addr 127.0.0.1:0] [-uri-file PATH] [-ready-timeout 30s]
//
// Once the server accepts TCP connections, mongotest prints exactly one line,
// the MongoDB URI (for example "mongodb://127.0.0.1:40123/"), on stdout and,
// if -uri-file is set, writes the same URI to that file (atomically, via a
// temporary file and rename). It then runs until SIGTERM or SIGINT, shuts
// down cleanly and exits 0. FerretDB logs go to stderr at warn level.
//
// Known FerretDB v1.24 (sqlite) limitations relevant to tests:
//   - createIndexes with expireAfterSeconds fails (code 238, NotImplemented);
//     partialFilterExpression is rejected the same way, sparse is ignored.
//   - Multi-document transactions are not supported.
//   - Conditional writes are NOT atomic: FindOneAndUpdate with a filter,
//     a conditional UpdateOne and FindOneAndDelete can each hand the same
//     document to several concurrent callers (seen in nearly every round
//     with 8 racing clients). DeleteOne's DeletedCount and unique-index
//     inserts did hold: a model that must claim an item exactly once (a
//     code, a refresh token) should claim it with a unique-key insert or a
//     DeleteOne whose DeletedCount is 1, which is atomic on MongoDB too.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mongotest:", err)
		os.Exit(1)
	}
}

// run parses args, starts the server, prints the URI on stdout and blocks
// until SIGTERM or SIGINT.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mongotest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback `host:port` to listen on (port 0 picks a free port)")
	uriFile := fs.String("uri-file", "", "if set, write the MongoDB URI to this `path` once the server is ready")
	readyTimeout := fs.Duration("ready-timeout", 30*time.Second, "how long to wait for the server to accept connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	srv, err := start(*addr, logger, *readyTimeout)
	if err != nil {
		return err
	}

	if *uriFile != "" {
		if err := writeFileAtomic(*uriFile, srv.URI); err != nil {
			return errors.Join(err, srv.Close())
		}
	}
	if _, err := fmt.Fprintln(stdout, srv.URI); err != nil {
		return errors.Join(err, srv.Close())
	}

	select {
	case <-ctx.Done():
	case err := <-srv.done:
		// Run returned on its own; should not happen.
		srv.done <- err // let Close observe it
	}
	return srv.Close()
}

// server is a running embedded FerretDB instance.
type server struct {
	URI    string
	dir    string
	cancel context.CancelFunc
	done   chan error
}

// start validates that addr is a loopback address, creates a temporary data
// directory, starts FerretDB on addr and waits until it accepts TCP
// connections.
func start(addr string, logger *slog.Logger, readyTimeout time.Duration) (*server, error) {
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}

	dir, err := os.MkdirTemp("", "mongotest-*")
	if err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: addr},
		Logger:   logger,
		Handler:  "sqlite",
		// The sqlite handler wants a "file:" URI of an existing directory
		// ending with "/".
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting FerretDB: %w", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	s := &server{
		// ferretdb.New already bound the TCP listener, so this does not block.
		URI:    f.MongoDBURI(),
		dir:    dir,
		cancel: cancel,
		done:   make(chan error, 1),
	}
	go func() { s.done <- f.Run(ctx) }()

	// The listener is bound by New, but only accepts once Run is going;
	// dial until the port really answers.
	tcpAddr, err := hostPort(s.URI)
	if err == nil {
		err = waitReady(tcpAddr, readyTimeout, s.done)
	}
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// Close stops the server, waits for it to shut down and removes its data
// directory. It must be called at most once.
func (s *server) Close() error {
	s.cancel()
	runErr := <-s.done
	rmErr := os.RemoveAll(s.dir)
	return errors.Join(runErr, rmErr)
}

// checkLoopback returns an error unless addr's host is a loopback IP or
// "localhost".
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid -addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("invalid -addr %q: host must be a loopback address such as 127.0.0.1, not %q", addr, host)
}

// hostPort extracts host:port from a mongodb://host:port/ URI.
func hostPort(uri string) (string, error) {
	const prefix = "mongodb://"
	if len(uri) <= len(prefix) || uri[:len(prefix)] != prefix {
		return "", fmt.Errorf("unexpected MongoDB URI %q", uri)
	}
	rest := uri[len(prefix):]
	for i, c := range rest {
		if c == '/' || c == '?' {
			return rest[:i], nil
		}
	}
	return rest, nil
}

// waitReady dials addr until it accepts a TCP connection, the timeout expires
// or the server stops (done receives).
func waitReady(addr string, timeout time.Duration, done chan error) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server at %s not accepting connections after %s: %w", addr, timeout, err)
		}
		select {
		case runErr := <-done:
			done <- runErr // let Close observe it
			return fmt.Errorf("server stopped before accepting connections: %v", runErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// writeFileAtomic writes data to path via a temporary file in the same
// directory and a rename, so readers never see a partial file.
func writeFileAtomic(path, data string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing URI file: %w", err)
	}
	_, err = tmp.WriteString(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing URI file: %w", err)
	}
	return nil
}
