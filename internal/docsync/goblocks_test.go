package docsync

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goBlocks returns the ```go blocks of a Markdown document with the line
// each starts on.
func goBlocks(doc string) (blocks []string, lines []int) {
	var cur []string
	in, start := false, 0
	for i, line := range strings.Split(doc, "\n") {
		switch trimmed := strings.TrimSpace(line); {
		case !in && trimmed == "```go":
			in, start, cur = true, i+2, nil
		case in && trimmed == "```":
			in = false
			blocks, lines = append(blocks, strings.Join(cur, "\n")), append(lines, start)
		case in:
			cur = append(cur, line)
		}
	}
	return blocks, lines
}

// parses reports whether src is Go: a whole file, declarations, or
// statements of a function body (docs show all three).
func parses(src string) error {
	fset := token.NewFileSet()
	if packageClause.MatchString(src) {
		_, err := parser.ParseFile(fset, "", src, parser.SkipObjectResolution)
		return err
	}
	if _, err := parser.ParseFile(fset, "", "package p\n"+src, parser.SkipObjectResolution); err == nil {
		return nil
	}
	// Statements; "…" marks elided code in a few examples.
	body := strings.ReplaceAll(src, "...", "nil")
	_, err := parser.ParseFile(fset, "", "package p\nfunc _() {\n"+body+"\n}", parser.SkipObjectResolution)
	if err == nil {
		return nil
	}
	// Fields of a composite literal, e.g. of oauth2server.Options.
	if _, ferr := parser.ParseFile(fset, "", "package p\nvar _ = T{\n"+body+"\n}", parser.SkipObjectResolution); ferr == nil {
		return nil
	}
	return err
}

var packageClause = regexp.MustCompile(`(?m)^package \w+`)

// Every Go block of the README and the guides is valid Go syntax, so a
// reader who copies one does not start with a syntax error. (Type checks
// are left to the compiled copies: ExampleToken for the README quick start,
// internal/mapmodel for the model of docs/model.md.)
func TestDocGoBlocksParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	require.NoError(t, err)
	files = append(files, filepath.Join("..", "..", "README.md"))
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		blocks, lines := goBlocks(string(b))
		for i, src := range blocks {
			n++
			assert.NoError(t, parses(src), "%s:%d", filepath.Base(f), lines[i])
		}
	}
	assert.Positive(t, n, "Go blocks found")
}

func TestParsesAcceptsTheDocForms(t *testing.T) {
	for name, tc := range map[string]struct {
		src string
		ok  bool
	}{
		"ok, a file with a leading comment": {"// Doc.\npackage x\n\nfunc F() {}", true},
		"ok, declarations":                  {"func F() {}\nvar v = 1", true},
		"ok, statements":                    {"x := 1\n_ = x", true},
		"ok, literal fields":                {"A: 1,\nB: []int{2},", true},
		"ok, elided code":                   {"f(...)", true},
		"nok, unbalanced":                   {"if x {", false},
		"nok, not Go":                       {"curl -s http://x", false},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.ok, parses(tc.src) == nil)
		})
	}
}
