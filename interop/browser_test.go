package interop

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// chromium starts a headless Chromium for one test, as the example's
// browser tests do. The binary is CHROMIUM_PATH or /usr/bin/chromium;
// without it the test skips, except with CI=true, where it fails.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM_PATH")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium not found at %s and CI=true: install Debian's chromium or set CHROMIUM_PATH", path)
		}
		t.Skipf("Chromium not found at %s; set CHROMIUM_PATH or install chromium to run browser tests", path)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // containers and CI run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1000, 800),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc() // waits for the browser to exit before TempDir is removed
	})
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	return ctx
}

// browserRP is a web application that signs its users in with the
// example, built with go-oidc: /start sends the browser to the
// authorization endpoint, /callback verifies what comes back and shows
// who signed in.
type browserRP struct {
	rp *goOIDC

	mu      sync.Mutex
	pending map[string]authRequest // by state, for one use
}

var resultPage = template.Must(template.New("result").Parse(`<!doctype html>
<title>Signed in</title>
<h1 id="verified">ID token verified</h1>
<dl>
<dt>sub</dt><dd id="sub">{{.Subject}}</dd>
<dt>auth_time</dt><dd id="auth-time">{{.AuthTime}}</dd>
<dt>name</dt><dd id="name">{{.Name}}</dd>
<dt>email</dt><dd id="email">{{.Email}}</dd>
</dl>
`))

func (b *browserRP) start(w http.ResponseWriter, r *http.Request) {
	req := newAuthRequest()
	b.mu.Lock()
	b.pending[req.state] = req
	b.mu.Unlock()
	http.Redirect(w, r, b.rp.url(req), http.StatusFound)
}

func (b *browserRP) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b.mu.Lock()
	req, ok := b.pending[r.URL.Query().Get("state")]
	delete(b.pending, req.state)
	b.mu.Unlock()
	if !ok {
		http.Error(w, "unknown state", http.StatusBadRequest)
		return
	}
	tok, err := b.rp.conf.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(req.verifier))
	if err != nil {
		http.Error(w, "exchange: "+err.Error(), http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := b.rp.verifier.Verify(ctx, raw)
	if err != nil || idt.Nonce != req.nonce || idt.VerifyAccessToken(tok.AccessToken) != nil {
		http.Error(w, "the ID token did not verify", http.StatusUnauthorized)
		return
	}
	var c struct {
		AuthTime int64 `json:"auth_time"`
	}
	_ = idt.Claims(&c)
	info, err := b.rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Subject != idt.Subject {
		http.Error(w, "UserInfo failed", http.StatusBadGateway)
		return
	}
	var profile struct {
		Name string `json:"name"`
	}
	_ = info.Claims(&profile)
	_ = resultPage.Execute(w, map[string]any{"Subject": idt.Subject, "AuthTime": c.AuthTime,
		"Name": profile.Name, "Email": info.Email})
}

// A user in Chromium signs in to a relying party with the example: the
// relying party redirects to the authorization endpoint, the user types
// the password on the login page and approves on the consent page, and
// the relying party's callback verifies the ID token with go-oidc and
// shows the user from UserInfo.
func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	ctx := chromium(t)
	mux := http.NewServeMux()
	rpSrv := httptest.NewUnstartedServer(mux)
	rpURL := "http://" + rpSrv.Listener.Addr().String()
	c := rpClient("browser-rp", "browser-secret", rpURL+"/callback")
	o := startOP(t, c)
	b := &browserRP{rp: newGoOIDC(t, testContext(t), o.issuer, c), pending: map[string]authRequest{}}
	mux.HandleFunc("/start", b.start)
	mux.HandleFunc("/callback", b.callback)
	rpSrv.Start()
	t.Cleanup(rpSrv.Close)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(rpURL+"/start"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), userPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[name=decision][value=approve]`)),
	))
	scopes, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`ul.scopes`)))
	require.NoError(t, err)
	assert.Contains(t, scopes, "openid")
	assert.Contains(t, scopes, "email")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[name=decision][value=approve]`)),
		chromedp.WaitVisible(chromedp.ID("verified")),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Contains(t, loc, rpURL+"/callback?")
	for id, want := range map[string]string{"sub": userID, "name": userName, "email": userEmail} {
		got, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		require.NoError(t, err)
		assert.Equal(t, want, got, id)
	}
}
