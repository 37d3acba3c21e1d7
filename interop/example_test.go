package interop

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The user of every test, with the claims the example seeds for it.
const (
	userID       = "u-alice"
	username     = "alice"
	userPassword = "alice-password"
	userName     = "Alice Liddell"
	userEmail    = "alice@example.com"
)

// built is the example binary and the RSA key (PEM file) that signs its
// ID tokens, made once by TestMain for every test.
type built struct {
	bin string
	key string
}

// example is set by TestMain before any test runs and only read after.
var example built

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		os.Exit(1)
	}
	example, err = buildExample(dir)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
	} else {
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// buildExample builds ../example into dir and writes a signing key there.
func buildExample(dir string) (built, error) {
	b := built{bin: filepath.Join(dir, "example"), key: filepath.Join(dir, "signing.pem")}
	cmd := exec.Command("go", "build", "-o", b.bin, "./example")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		return b, fmt.Errorf("go build ./example: %v\n%s", err, out)
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return b, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return b, err
	}
	return b, os.WriteFile(b.key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// client is a client of the example's -config file.
type client struct {
	ID       string   `json:"id"`
	Secret   string   `json:"secret,omitempty"`
	Public   bool     `json:"public,omitempty"`
	Redirect []string `json:"redirect_uris"`
	Logout   []string `json:"post_logout_redirect_uris,omitempty"`
	Grants   []string `json:"grants"`
	Scopes   []string `json:"scopes"`
}

// rpClient is a relying party with the OpenID Connect scopes and refresh
// tokens; a public one when secret is "".
func rpClient(id, secret, redirect string) client {
	return client{ID: id, Secret: secret, Public: secret == "", Redirect: []string{redirect},
		Grants: []string{"authorization_code", "refresh_token"},
		Scopes: []string{"openid", "profile", "email", "read"}}
}

// op is the example server, an OpenID Provider, running as a subprocess.
type op struct {
	issuer string
	out    *syncBuffer // its standard output and error
}

var listeningRe = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)\n`)

// startOP runs the example on a free loopback port with clients and the
// user alice, and stops it (SIGTERM) when the test ends.
func startOP(t *testing.T, clients ...client) *op {
	t.Helper()
	cfg := map[string]any{
		"clients": clients,
		"users": []map[string]any{{"id": userID, "username": username, "password": userPassword,
			"claims": map[string]any{"name": userName, "preferred_username": username,
				"email": userEmail, "email_verified": true}}},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(example.bin, "-addr", "127.0.0.1:0", "-config", file, "-signing-key", example.key)
	o := &op{out: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = o.out, o.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("example output:\n%s", o.out)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listeningRe.FindStringSubmatch(o.out.String()); m != nil {
			o.issuer = m[1]
			return o
		}
		select {
		case <-done:
			t.Fatalf("the example exited: %s", o.out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example did not start: %s", o.out)
		}
	}
}

// syncBuffer collects a subprocess's output for the test to read.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

// testContext returns a context that ends with the test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
