package main

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// cluster is three instances of the example on one MongoDB database, with
// one session key, behind a reverse proxy that sends each request to the
// next instance in turn.
type cluster struct {
	*testServer // the proxy: base is the issuer; app is nil

	mu     sync.Mutex
	served []int // the instance of each request, in order
}

// startCluster starts three processes of the example binary, as a
// deployment runs them: nothing but the database and the session key is
// shared.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	uri, key := mongoURI(t), newSessionKey(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cl := &cluster{testServer: &testServer{base: "http://" + ln.Addr().String()}}
	bin := exampleBinary(t)
	var backends []*url.URL
	for range 3 {
		backends = append(backends, startProcess(t, bin, "-mongo-uri", uri, "-session-key", base64.StdEncoding.EncodeToString(key),
			"-signing-key", testSigningKey, "-issuer", cl.base))
	}
	cl.serve(t, ln, backends)
	return cl
}

// startClusterAt starts a cluster of three instances in this test process
// whose clocks read now, as servers with synchronised clocks do: for the
// tests that must move time. They share nothing but the database and the
// session key either; the example has no package-level state.
func startClusterAt(t *testing.T, now func() time.Time) *cluster {
	t.Helper()
	uri, key := mongoURI(t), newSessionKey(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cl := &cluster{testServer: &testServer{base: "http://" + ln.Addr().String()}}
	var backends []*url.URL
	for range 3 {
		ts := startApp(t, appConfig{MongoURI: uri, SessionKey: key, Issuer: cl.base, now: now})
		u, err := url.Parse(ts.base)
		require.NoError(t, err)
		backends = append(backends, u)
	}
	cl.serve(t, ln, backends)
	return cl
}

// serve runs the round-robin proxy in front of backends on ln.
func (cl *cluster) serve(t *testing.T, ln net.Listener, backends []*url.URL) {
	t.Helper()
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		cl.mu.Lock()
		i := len(cl.served) % len(backends)
		cl.served = append(cl.served, i)
		cl.mu.Unlock()
		r.SetURL(backends[i])
	}}
	hs := httptest.NewUnstartedServer(proxy)
	require.NoError(t, hs.Listener.Close())
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
}

// exampleBinary builds the example into a directory of the test.
func exampleBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "example")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// startProcess runs the example binary on a free loopback port with args
// and returns its base URL once it answers.
func startProcess(t *testing.T, bin string, args ...string) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // the process takes the port over
	cmd := exec.Command(bin, append([]string{"-addr", addr}, args...)...)
	out := &syncBuffer{} // written by os/exec, read by the test
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/.well-known/oauth-authorization-server")
		if err == nil {
			_ = resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("example process did not start: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	u, err := url.Parse(base)
	require.NoError(t, err)
	return u
}

// requests returns how many requests each instance served.
func (cl *cluster) requests() [3]int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var n [3]int
	for _, i := range cl.served {
		n[i]++
	}
	return n
}

// last returns the instance that served the latest request.
func (cl *cluster) last() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.served[len(cl.served)-1]
}

// state lives in the shared database, so a browser and a client
// whose every request lands on another instance complete the whole code
// flow: the login, its session, the signed login and consent forms and
// the spent consent form are seen by every instance.
func TestClusterCodeFlow(t *testing.T) {
	t.Parallel()
	cl := startCluster(t)
	ctx := context.Background()
	conf := cl.codeClient("read", "write")
	verifier := oauth2.GenerateVerifier()
	c := browser(t)

	// authorize (1) → login page (2) → login (3) → consent page (1) → approve (2)
	page := cl.consentPage(t, c, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	resp := cl.decide(t, c, page, "approve")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	q := cl.redirectParams(t, resp)
	require.Equal(t, "st", q.Get("state"))
	resp = cl.decide(t, c, page, "approve")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the form was spent on another instance")
	assert.Empty(t, resp.Header.Get("Location"))

	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	status, me := apiGet(t, conf.Client(ctx, tok), cl.base+mePath)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, demoUsername, me["sub"])

	expired := *tok
	expired.AccessToken = ""
	refreshed, err := conf.TokenSource(ctx, &expired).Token()
	require.NoError(t, err)
	assert.NotEqual(t, tok.RefreshToken, refreshed.RefreshToken, "rotated")
	status, _ = apiGet(t, conf.Client(ctx, refreshed), cl.base+writePath)
	require.Equal(t, http.StatusOK, status)

	// RFC 7009: revoking the refresh token ends its grant on every
	// instance.
	resp, body := post(t, http.DefaultClient, cl.base+"/oauth/revoke", url.Values{
		"token": {refreshed.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {demoPublicClient},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	again := *refreshed
	again.AccessToken = ""
	_, err = conf.TokenSource(ctx, &again).Token()
	assert.ErrorContains(t, err, "invalid_grant")
	status, _ = apiGet(t, conf.Client(ctx, refreshed), cl.base+mePath)
	assert.Equal(t, http.StatusUnauthorized, status)

	// Logging out on one instance ends the session on all.
	_, home := get(t, c, cl.base+"/")
	require.Contains(t, home, "Signed in as")
	resp, _ = post(t, c, cl.base+logoutPath, url.Values{"csrf_token": {csrfToken(t, home)}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	for range 3 {
		_, home = get(t, c, cl.base+"/")
		assert.NotContains(t, home, "Signed in as")
	}

	n := cl.requests()
	for i := range n {
		assert.GreaterOrEqual(t, n[i], 5, "instance %d served its share: %v", i, n)
	}
}

// a failure budget holds for the cluster as for one
// instance. Wrong user codes from one address, spread over the three
// instances, are refused after the limit of one (UserCodeMaxFailures,
// 10 by default), not after three times it. The counters live in the
// model's CounterModel.
func TestClusterFailureBudget(t *testing.T) {
	t.Parallel()
	cl := startCluster(t)
	c := browser(t)
	cl.login(t, c)
	_, page := get(t, c, cl.base+devicePath)
	form := url.Values{"csrf_token": {csrfToken(t, page)}, "user_code": {"BCDF-GHJK"}}
	before := cl.requests()
	for i := range 10 {
		resp, _ := post(t, c, cl.base+devicePath, form)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "wrong code %d", i+1)
	}
	after := cl.requests()
	for i := range after {
		require.GreaterOrEqual(t, after[i]-before[i], 3, "instance %d had its share of the wrong codes", i)
	}
	resp, body := post(t, c, cl.base+devicePath, form)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the 11th wrong code, on any instance")
	assert.Contains(t, body, "Too many wrong codes")
}

// an account's password failure budget holds for the
// cluster as for one instance. Wrong passwords for one account, spread
// over the three instances, are throttled after the library's five free
// failures and the sixth, which starts a one-second delay, not after three
// times as many: the login page counts them with the Server's
// LoginThrottle, in the model's CounterModel. The instances share a clock
// that stands still, so the delay cannot pass between two requests.
func TestClusterPasswordBudget(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	cl := startClusterAt(t, clock.Now)
	posted := map[int]int{}
	for i := range 6 {
		resp, body := cl.loginAs(t, "", demoUsername, "wrong")
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "wrong password %d: %s", i+1, body)
		posted[cl.last()]++
	}
	require.Equal(t, map[int]int{0: 2, 1: 2, 2: 2}, posted, "each instance had its share of the wrong passwords")

	resp, body := cl.loginAs(t, "", demoUsername, demoPassword)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the 7th attempt, on any instance, even with the right password: %s", body)
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After in seconds")
	assert.GreaterOrEqual(t, secs, 1)
	assert.Contains(t, body, "Too many failed sign-in attempts.")

	clock.Add(time.Duration(secs) * time.Second)
	resp, body = cl.loginAs(t, "", demoUsername, demoPassword)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "after the delay the right password works: %s", body)
}
