package oauth2server_test

// A test of the documentation, not of one source file: it checks
// docs/requirements.md against the citations in every .go and .md file.

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every requirement number that code, tests or docs cite resolves in
// docs/requirements.md, so a citation never points outside the repository.
func TestCitedRequirementsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("docs", "requirements.md"))
	require.NoError(t, err)
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| (R-\d+) \|`).FindAllStringSubmatch(string(doc), -1) {
		defined[m[1]] = true
	}
	require.NotEmpty(t, defined)
	cite := regexp.MustCompile(`\bR-\d{2,3}\b`)
	cited := map[string][]string{}
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, ".md") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, r := range cite.FindAllString(string(b), -1) {
			cited[r] = append(cited[r], path)
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, cited)
	for r, where := range cited {
		assert.True(t, defined[r], "%s is cited in %v but not defined in docs/requirements.md", r, where)
	}
}
