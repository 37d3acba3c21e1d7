package main

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromium starts a headless Chromium for one test and returns a browser
// context for chromedp. The binary is CHROMIUM_PATH or /usr/bin/chromium
// (Debian's package, which make test installs). Without it the test skips,
// except in CI (CI=true), where a browser test that does not run must fail.
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

// fillLogin types the demo credentials into the login form and submits it.
func fillLogin() chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), demoUsername),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
}

func TestBrowserLogin(t *testing.T) {
	t.Parallel()
	ts := startApp(t, appConfig{})
	ctx := chromium(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.base+loginPath),
		fillLogin(),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)),
	))
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	require.NoError(t, err)
	require.Contains(t, text, "Signed in as demo")
}
