package docsync

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// walkthroughScriptOnly maps the lines of docs/walkthrough.md that the
// script writes differently to the script's form: it takes the server's
// URL as an argument and works in a directory it removes.
var walkthroughScriptOnly = map[string]string{
	`AS=http://127.0.0.1:9096`: `AS=${1:-http://127.0.0.1:9096}`,
	`cd "$(mktemp -d)"`:        `cd "$work"`,
}

// docCommands returns the lines of the ```sh blocks of a Markdown
// document, trimmed, without blank lines and comments.
func docCommands(doc string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && trimmed == "```sh":
			in = true
		case in && trimmed == "```":
			in = false
		case in && trimmed != "" && !strings.HasPrefix(trimmed, "#"):
			out = append(out, trimmed)
		}
	}
	return out
}

// scriptCommands returns the lines of the script, trimmed, with the
// "expect CODE " that checks a command's status removed.
func scriptCommands(script string) []string {
	expect := regexp.MustCompile(`^expect [0-9]{3} `)
	var out []string
	for _, line := range strings.Split(script, "\n") {
		out = append(out, expect.ReplaceAllString(strings.TrimSpace(line), ""))
	}
	return out
}

// Every command of docs/walkthrough.md runs, verbatim and in the page's
// order, in scripts/walkthrough.sh; and every request the script sends is
// on the page.
func TestWalkthroughScriptRunsThePage(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "walkthrough.md"))
	require.NoError(t, err)
	script, err := os.ReadFile(filepath.Join(root, "scripts", "walkthrough.sh"))
	require.NoError(t, err)
	shown := docCommands(string(doc))
	run := scriptCommands(string(script))
	require.NotEmpty(t, shown)

	next := 0
	for _, cmd := range shown {
		want := cmd
		if s, ok := walkthroughScriptOnly[cmd]; ok {
			want = s
		}
		found := false
		for ; next < len(run); next++ {
			if run[next] == want {
				found = true
				next++
				break
			}
		}
		require.True(t, found, "docs/walkthrough.md shows %q, which scripts/walkthrough.sh does not run at this point", cmd)
	}

	onPage := map[string]bool{}
	for _, cmd := range shown {
		onPage[cmd] = true
	}
	for _, cmd := range run {
		if strings.HasPrefix(cmd, "curl ") || strings.HasPrefix(cmd, "--data-urlencode") || strings.HasPrefix(cmd, "-d ") {
			assert.True(t, onPage[cmd], "scripts/walkthrough.sh sends %q, which docs/walkthrough.md does not show", cmd)
		}
	}
}
