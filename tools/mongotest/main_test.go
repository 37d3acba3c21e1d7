package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// runMainEnv makes the test binary behave as the mongotest command, so that
// TestCommand can exercise main() (flags, stdout, signals, exit code) without
// a separate go build.
const runMainEnv = "MONGOTEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startInProcess starts a server on a free loopback port and returns its URI.
func startInProcess(t *testing.T) string {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := start("127.0.0.1:0", logger, 30*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, srv.Close())
		assert.NoDirExists(t, srv.dir)
	})
	require.True(t, strings.HasPrefix(srv.URI, "mongodb://127.0.0.1:"), srv.URI)
	require.DirExists(t, srv.dir)
	return srv.URI
}

func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(10 * time.Second))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, client.Disconnect(context.Background())) })
	return client
}

func TestServerFeatures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	client := connect(t, startInProcess(t))
	require.NoError(t, client.Ping(ctx, nil))

	coll := client.Database("mongotest").Collection("things")

	t.Run("unique index", func(t *testing.T) {
		_, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys:    bson.D{{Key: "name", Value: 1}},
			Options: options.Index().SetUnique(true),
		})
		require.NoError(t, err)

		_, err = coll.InsertOne(ctx, bson.D{{Key: "name", Value: "a"}})
		require.NoError(t, err)
		_, err = coll.InsertOne(ctx, bson.D{{Key: "name", Value: "a"}})
		require.Error(t, err)
		assert.True(t, mongo.IsDuplicateKeyError(err), "want duplicate key error, got %v", err)
	})

	t.Run("FindOneAndDelete", func(t *testing.T) {
		_, err := coll.InsertOne(ctx, bson.D{{Key: "name", Value: "once"}, {Key: "v", Value: 42}})
		require.NoError(t, err)

		filter := bson.D{{Key: "name", Value: "once"}}
		var got struct {
			Name string `bson:"name"`
			V    int    `bson:"v"`
		}
		require.NoError(t, coll.FindOneAndDelete(ctx, filter).Decode(&got))
		assert.Equal(t, "once", got.Name)
		assert.Equal(t, 42, got.V)

		err = coll.FindOneAndDelete(ctx, filter).Err()
		assert.ErrorIs(t, err, mongo.ErrNoDocuments)
	})

	// Documents a FerretDB v1.24 limitation model authors must know about:
	// TTL indexes are rejected (NotImplemented), not silently accepted.
	t.Run("TTL index is not implemented", func(t *testing.T) {
		_, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys:    bson.D{{Key: "expiresAt", Value: 1}},
			Options: options.Index().SetExpireAfterSeconds(0),
		})
		var cmdErr mongo.CommandError
		require.True(t, errors.As(err, &cmdErr), "want CommandError, got %v", err)
		assert.Equal(t, int32(238), cmdErr.Code) // NotImplemented
	})
}

// TestCommand runs the command as a child process (the test binary itself,
// see TestMain) and checks its contract: one URI line on stdout, URI file
// written, clean exit 0 on SIGTERM, temporary data directory removed.
func TestCommand(t *testing.T) {
	tmp := t.TempDir()
	uriFile := filepath.Join(tmp, "uri")
	dataParent := t.TempDir() // child's TMPDIR, to check the data dir is removed

	cmd := exec.Command(os.Args[0], "-uri-file", uriFile, "-ready-timeout", "30s")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "TMPDIR="+dataParent)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	r := bufio.NewReader(stdout)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	uri := strings.TrimSuffix(line, "\n")
	assert.Regexp(t, `^mongodb://127\.0\.0\.1:\d+/$`, uri)

	b, err := os.ReadFile(uriFile)
	require.NoError(t, err)
	assert.Equal(t, uri, string(b))

	entries, err := os.ReadDir(dataParent)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "expected one temporary data directory")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	require.NoError(t, err)
	require.NoError(t, client.Ping(ctx, nil))
	require.NoError(t, client.Disconnect(ctx))

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	left := killAfter(cmd, 30*time.Second)
	rest, err := io.ReadAll(r) // until the process closes stdout
	require.NoError(t, err)
	assert.Empty(t, string(rest), "stdout must contain only the URI line")
	err = cmd.Wait()
	require.True(t, left(), "no exit within 30s of SIGTERM: killed")
	require.NoError(t, err, "exit status after SIGTERM")

	entries, err = os.ReadDir(dataParent)
	require.NoError(t, err)
	assert.Empty(t, entries, "temporary data directory not removed")
}

// killAfter kills the process of cmd unless the returned function is
// called within d, so that a child ignoring a signal fails the test
// instead of hanging it. The function reports whether the process was
// left alone; call it once cmd.Wait has returned.
func killAfter(cmd *exec.Cmd, d time.Duration) func() bool {
	timer := time.AfterFunc(d, func() { _ = cmd.Process.Kill() })
	return timer.Stop
}

func TestCommandRejectsNonLoopback(t *testing.T) {
	var stdout, stderr strings.Builder
	err := run([]string{"-addr", "0.0.0.0:0"}, &stdout, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "loopback")
	assert.Empty(t, stdout.String())
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:0":     true,
		"127.0.0.2:27017": true,
		"localhost:0":     true,
		"[::1]:0":         true,
		"0.0.0.0:0":       false,
		":0":              false,
		"[::]:0":          false,
		"10.0.0.1:0":      false,
		"example.com:0":   false,
		"127.0.0.1":       false,
	} {
		err := checkLoopback(addr)
		if ok {
			assert.NoError(t, err, addr)
		} else {
			assert.Error(t, err, addr)
		}
	}
}
