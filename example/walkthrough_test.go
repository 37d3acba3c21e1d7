package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// docs/walkthrough.md's curl commands, as scripts/walkthrough.sh runs them
// verbatim, work against the example: login, consent, code, tokens,
// refresh reuse. Without curl, jq or openssl the test skips, except in CI
// (CI=true), where it must run.
func TestWalkthroughScript(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found and CI=true: scripts/test.sh installs it", tool)
			}
			t.Skipf("%s not found: the walkthrough script needs it", tool)
		}
	}
	ts := startApp(t, appConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join("..", "scripts", "walkthrough.sh"), ts.base)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "walkthrough: OK")
}
