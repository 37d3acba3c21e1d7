package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// testServer is the example served on a real loopback listener.
type testServer struct {
	app  *app
	base string // e.g. http://127.0.0.1:41234
}

// startApp serves the example on a free loopback port. cfg.Addr and the
// issuer are set from the listener.
func startApp(t *testing.T, cfg appConfig) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg.Addr = ln.Addr().String()
	if cfg.hashPassword == nil {
		cfg.hashPassword = cheapHash
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.SigningKeyFile == "" && !cfg.Dev && !cfg.NoOpenID {
		// A key made once, instead of one generated per server: an RSA
		// key takes seconds under the race detector. The FAPI 2.0 profile
		// signs with ES256 instead.
		cfg.SigningKeyFile = testSigningKey
		if cfg.FAPI {
			cfg.SigningKeyFile = testSigningKeyEC
		}
	}
	e, a, err := newApp(cfg)
	require.NoError(t, err)
	hs := httptest.NewUnstartedServer(e)
	require.NoError(t, hs.Listener.Close())
	hs.Listener = ln
	hs.Config = newHTTPServer(e) // as main serves it
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		require.NoError(t, a.Close(context.Background()))
	})
	return &testServer{app: a, base: "http://" + cfg.Addr}
}

// testSigningKey is the RSA key (PEM) that signs the test servers' ID
// tokens, for tests only.
const (
	testSigningKey   = "testdata/signing-rsa.pem"
	testSigningKeyEC = "testdata/signing-ec.pem"
)

// cheapHash is bcrypt at its minimum cost: the same format as
// oauth2server.HashPassword, a hundred times faster.
func cheapHash(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	return string(h), err
}

// browser returns an http.Client with a cookie jar that does not follow
// redirects, so that each step of a flow can be checked.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

var (
	csrfRe   = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// hiddenFields returns the hidden inputs of the forms in body.
func hiddenFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		v.Add(m[1], unescapeAttr(m[2]))
	}
	return v
}

var regexpValue = regexp.MustCompile(`id="user_code" name="user_code" value="([^"]*)"`)

// get fetches url and returns the response and its body.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// postForm posts form to u and returns the response and its body.
func post(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.Post(u, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// csrfToken extracts the CSRF token of the first form in body.
func csrfToken(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	require.NotNil(t, m, "no csrf_token in page: %s", body)
	return m[1]
}

// login signs the demo user in with the browser's cookie jar.
func (ts *testServer) login(t *testing.T, c *http.Client) {
	t.Helper()
	_, body := get(t, c, ts.base+loginPath)
	resp, body := post(t, c, ts.base+loginPath, url.Values{
		"csrf_token": {csrfToken(t, body)}, "username": {demoUsername}, "password": {demoPassword},
	})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
}

// testClock is a clock the test moves; the server's goroutines read it
// concurrently. It starts at the real time, so cookie jars agree with it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now().Truncate(time.Second)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
