package docsync

import (
	"fmt"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A goBlock is a ```go block of a Markdown page with the hidden contexts
// that apply to it (README.md in this directory describes them).
type goBlock struct {
	page     string // as reported: "docs/token.md"
	fence    int    // line of the opening fence
	end      int    // line of the closing fence
	src      string
	contexts []goContext // the page's, then the block's
}

// A goContext is the Go text of a <!-- go:page --> or <!-- go:block -->
// comment, which declares the names a block uses without showing them.
type goContext struct {
	line int // the line the text starts on: that of the comment's opening
	src  string
}

const (
	pageMarker  = "<!-- go:page"
	blockMarker = "<!-- go:block"
	endMarker   = "-->"
)

// goBlocks returns the ```go blocks of a Markdown page with their
// contexts. A page context applies to every block of the page that is not
// a complete file; a block context applies to the block right after it.
func goBlocks(page, doc string) ([]goBlock, error) {
	lines := strings.Split(doc, "\n")
	var (
		blocks    []goBlock
		pageCtx   *goContext
		pending   *goContext // a block context waiting for its block
		pendingAt int
	)
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		marker := ""
		for _, m := range []string{pageMarker, blockMarker} {
			if rest, ok := strings.CutPrefix(trimmed, m); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
				marker = m
			}
		}
		switch {
		case marker != "":
			start := i
			text := strings.TrimPrefix(trimmed, marker)
			for !strings.HasSuffix(strings.TrimSpace(text), endMarker) {
				i++
				if i == len(lines) {
					return nil, fmt.Errorf("%s:%d: %s is not closed by a line ending in %s", page, start+1, marker, endMarker)
				}
				text += "\n" + lines[i]
			}
			// Trimmed at the end only: the text must keep its lines.
			text = strings.TrimSuffix(strings.TrimRightFunc(text, unicode.IsSpace), endMarker)
			if strings.Contains(text, endMarker) {
				return nil, fmt.Errorf("%s:%d: %s holds %s before its end", page, start+1, marker, endMarker)
			}
			ctx := goContext{line: start + 1, src: text}
			switch {
			case marker == pageMarker && pageCtx != nil:
				return nil, fmt.Errorf("%s:%d: a second %s comment (the first is on line %d)", page, start+1, pageMarker, pageCtx.line)
			case marker == pageMarker:
				pageCtx = &ctx
			case pending != nil:
				return nil, fmt.Errorf("%s:%d: %s is not followed by a ```go block", page, pendingAt, blockMarker)
			default:
				pending, pendingAt = &ctx, start+1
			}
		case strings.HasPrefix(trimmed, "```"):
			lang := strings.TrimPrefix(trimmed, "```")
			start := i
			var code []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
				code = append(code, lines[i])
			}
			if i == len(lines) {
				return nil, fmt.Errorf("%s:%d: the code block is not closed", page, start+1)
			}
			if lang != "go" {
				if pending != nil {
					return nil, fmt.Errorf("%s:%d: %s is not followed by a ```go block", page, pendingAt, blockMarker)
				}
				continue
			}
			b := goBlock{page: page, fence: start + 1, end: i + 1, src: strings.Join(code, "\n")}
			if pending != nil {
				b.contexts = []goContext{*pending}
				pending = nil
			}
			blocks = append(blocks, b)
		case trimmed != "" && pending != nil:
			return nil, fmt.Errorf("%s:%d: %s is not followed by a ```go block", page, pendingAt, blockMarker)
		}
	}
	if pending != nil {
		return nil, fmt.Errorf("%s:%d: %s is not followed by a ```go block", page, pendingAt, blockMarker)
	}
	if pageCtx != nil {
		for i := range blocks {
			if !packageClause.MatchString(blocks[i].src) {
				blocks[i].contexts = append([]goContext{*pageCtx}, blocks[i].contexts...)
			}
		}
	}
	return blocks, nil
}

// Every Go block of the README and the guides compiles against this
// module's packages: a block that calls a function the code no longer has,
// passes the wrong arguments or names a field that was renamed fails here,
// as "docs/page.md:line: message".
func TestDocGoBlocksCompile(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	pages = append([]string{filepath.Join(root, "README.md")}, pages...)

	fset := token.NewFileSet()
	var pkgs []*blockPackage
	var found []string
	for _, path := range pages {
		doc, err := os.ReadFile(path)
		require.NoError(t, err)
		rel, err := filepath.Rel(root, path)
		require.NoError(t, err)
		blocks, err := goBlocks(filepath.ToSlash(rel), string(doc))
		if err != nil {
			found = append(found, err.Error())
			continue
		}
		for _, b := range blocks {
			p, err := prepare(fset, b)
			if err != nil {
				found = append(found, problems(err)...)
				continue
			}
			pkgs = append(pkgs, p)
		}
	}
	require.NotEmpty(t, pkgs, "Go blocks found")

	imp := exportImporter(t, fset, importPaths(pkgs))
	for _, p := range pkgs {
		found = append(found, check(fset, imp, p)...)
	}
	if len(found) > 0 {
		t.Errorf("Go blocks of the docs do not compile (internal/docsync/README.md says how they are checked):\n%s",
			strings.Join(found, "\n"))
	}
}

// md turns each triple quote of a test page into a Markdown fence.
func md(doc string) string { return strings.ReplaceAll(doc, "'''", "```") }

// Each form of block compiles when it is right and fails, at the right
// line, when it is not.
func TestGoBlockForms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name           string
		givenPage      string
		expectProblems []string // a part of each problem, in order
	}{
		{
			name:      "ok, a whole file with a leading comment and its imports",
			givenPage: "'''go\n// Main says hello.\npackage main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println() }\n'''",
		},
		{
			name:           "nok, a whole file that calls what a package does not have",
			givenPage:      "# T\n\n'''go\npackage main\n\nimport \"fmt\"\n\nfunc main() { fmt.Printlm() }\n'''",
			expectProblems: []string{"t.md:8: undefined: fmt.Printlm"},
		},
		{
			name:      "ok, a whole file with a block context, in another file of its package",
			givenPage: "<!-- go:block var srv *oauth2server.Server -->\n'''go\npackage main\n\nfunc main() { _ = srv.IssuesJWT() }\n'''",
		},
		{
			name:      "ok, declarations",
			givenPage: "'''go\nfunc issuesJWT(srv *oauth2server.Server) bool {\n\treturn srv.IssuesJWT()\n}\n'''",
		},
		{
			name:           "nok, declarations with a wrong result type",
			givenPage:      "'''go\nfunc issuesJWT(srv *oauth2server.Server) string {\n\treturn srv.IssuesJWT()\n}\n'''",
			expectProblems: []string{"t.md:3: cannot use srv.IssuesJWT()"},
		},
		{
			name:      "ok, statements with the names of the page context",
			givenPage: "<!-- go:page\nvar srv *oauth2server.Server\nvar e *echo.Echo\n-->\n\n'''go\ne.Any(\"/oauth/token\", handlers.Token(srv))\n'''",
		},
		{
			name:           "nok, statements with an argument of the wrong type",
			givenPage:      "<!-- go:page\nvar srv *oauth2server.Server\nvar e *echo.Echo\n-->\n\n'''go\ne.Any(\"/oauth/token\", handlers.Token(e))\n'''",
			expectProblems: []string{"t.md:7: cannot use e"},
		},
		{
			name:      "ok, statements that leave their variables to the prose",
			givenPage: "<!-- go:block var model oauth2server.Model -->\n'''go\nsrv, err := oauth2server.New(model, oauth2server.Options{})\nvar n int\n'''",
		},
		{
			name:           "nok, statements with an unused variable in a nested block",
			givenPage:      "'''go\nif true {\n\tn := 1\n}\n'''",
			expectProblems: []string{"t.md:3: declared and not used: n"},
		},
		{
			name:      "ok, statements in the function of a block context",
			givenPage: "<!-- go:block func _(ctx context.Context) error -->\n'''go\nreturn ctx.Err()\n'''",
		},
		{
			name:           "nok, statements that return a value from the default function",
			givenPage:      "'''go\nreturn errors.New(\"x\")\n'''",
			expectProblems: []string{"t.md:2: too many return values"},
		},
		{
			name:      "ok, statements that leave the end of their function to the prose",
			givenPage: "<!-- go:block func _() error -->\n'''go\nif err := errors.New(\"x\"); err != nil {\n\treturn err\n}\n'''",
		},
		{
			name:           "nok, statements that return what their function does not",
			givenPage:      "<!-- go:block func _() error -->\n'''go\nif true {\n\treturn \"x\"\n}\n'''",
			expectProblems: []string{"t.md:4: cannot use \"x\""},
		},
		{
			name:      "ok, fields of oauth2server.Options",
			givenPage: "'''go\nIssuer: \"https://as.example.com\",\nDevice: oauth2server.DeviceOptions{Interval: 5 * time.Second},\n'''",
		},
		{
			name:           "nok, a field that oauth2server.Options does not have",
			givenPage:      "'''go\nIssuer: \"https://as.example.com\",\nIssur:  \"https://as.example.com\",\n'''",
			expectProblems: []string{"t.md:3: unknown field Issur"},
		},
		{
			name:      "ok, fields of the type of a block context",
			givenPage: "<!-- go:block var _ oauth2server.Client -->\n'''go\nID:     \"my-cli\",\nScopes: []string{\"read\"},\n'''",
		},
		{
			name: "ok, an excerpt of the package, the same as the package's",
			givenPage: "<!-- go:block\ntype Consent = oauth2server.Consent\n" +
				"var _ oauth2server.ConsentModel = ConsentModel(nil)\nvar _ ConsentModel = oauth2server.ConsentModel(nil)\n-->\n" +
				"'''go\ntype ConsentModel interface {\n" +
				"\tFindConsent(ctx context.Context, clientID, userID string) (*Consent, error)\n" +
				"\tSaveConsent(ctx context.Context, consent *Consent) error\n" +
				"\tRevokeConsent(ctx context.Context, clientID, userID string) error\n}\n'''",
		},
		{
			name:      "ok, a block of imports with the names of every page",
			givenPage: "'''go\nimport (\n\t\"net/http\"\n\n\toauthmw \"github.com/echo-oauth2/oauth2server/middleware\"\n)\n'''",
		},
		{
			name:           "nok, an import under another name than on every page",
			givenPage:      "'''go\nimport mw \"github.com/echo-oauth2/oauth2server/middleware\"\n'''",
			expectProblems: []string{"t.md:2: \"github.com/echo-oauth2/oauth2server/middleware\" imported as mw; every page calls it oauthmw"},
		},
		{
			name:           "nok, an import of a package that does not exist",
			givenPage:      "'''go\nimport \"github.com/echo-oauth2/oauth2server/nosuch\"\n'''",
			expectProblems: []string{"t.md:2: could not import github.com/echo-oauth2/oauth2server/nosuch"},
		},
		{
			name:           "nok, a name that no context declares",
			givenPage:      "'''go\nuser, err := sessions.User(nil)\n'''",
			expectProblems: []string{"t.md:2: undefined: sessions"},
		},
		{
			name:      "ok, code elided in a comment",
			givenPage: "<!-- go:block var srv *oauth2server.Server -->\n'''go\nh := handlers.Token(srv) // ...\n'''",
		},
		{
			name:           "nok, code elided outside a comment",
			givenPage:      "'''go\nh := handlers.Token(...)\n'''",
			expectProblems: []string{"t.md:2: expected operand"},
		},
		{
			name:           "nok, unbalanced",
			givenPage:      "'''go\nif x {\n'''",
			expectProblems: []string{"t.md:3: expected '}'"},
		},
		{
			name:           "nok, not Go",
			givenPage:      "'''go\ncurl -s http://x\n'''",
			expectProblems: []string{"t.md:2: "},
		},
		{
			name:           "nok, a block context that no block follows",
			givenPage:      "<!-- go:block var srv *oauth2server.Server -->\n\nSome prose.\n",
			expectProblems: []string{"t.md:1: <!-- go:block is not followed by a ```go block"},
		},
		{
			name:           "nok, a second page context",
			givenPage:      "<!-- go:page var srv *oauth2server.Server -->\n\n<!-- go:page var e *echo.Echo -->\n",
			expectProblems: []string{"t.md:3: a second <!-- go:page comment (the first is on line 1)"},
		},
		{
			name:           "nok, a context that names a type the package does not have",
			givenPage:      "<!-- go:page\nvar srv *oauth2server.Servr\n-->\n'''go\n_ = srv\n'''",
			expectProblems: []string{"t.md:2: undefined: oauth2server.Servr"},
		},
	}

	// One go list for every case: prepare them all first.
	fset := token.NewFileSet()
	found := make([][]string, len(cases))
	pkgs := make([][]*blockPackage, len(cases))
	for i, tc := range cases {
		blocks, err := goBlocks("t.md", md(tc.givenPage))
		if err != nil {
			found[i] = []string{err.Error()}
			continue
		}
		require.NotEmpty(t, blocks, tc.name)
		for _, b := range blocks {
			if p, err := prepare(fset, b); err != nil {
				found[i] = append(found[i], problems(err)...)
			} else {
				pkgs[i] = append(pkgs[i], p)
			}
		}
	}
	imp := exportImporter(t, fset, importPaths(slices.Concat(pkgs...)))

	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := found[i]
			for _, p := range pkgs[i] {
				got = append(got, check(fset, imp, p)...)
			}
			require.Len(t, got, len(tc.expectProblems), "problems: %q", got)
			for j, e := range tc.expectProblems {
				assert.Contains(t, got[j], e)
			}
		})
	}
}
