package mapmodel_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docBlocks returns the Go code blocks of a Markdown document that follow a
// line "<!-- file: PATH -->", by PATH (relative to the repository root).
func docBlocks(t *testing.T, doc string) map[string]string {
	t.Helper()
	const marker, fence = "<!-- file: ", "```"
	blocks := map[string]string{}
	lines := strings.SplitAfter(doc, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(line, marker) || !strings.HasSuffix(line, "-->") {
			continue
		}
		path := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, marker), "-->"))
		require.Less(t, i+1, len(lines), "%s: no code block after the marker", path)
		require.Equal(t, fence+"go", strings.TrimSpace(lines[i+1]), "%s: the marker must be followed by a ```go block", path)
		var b strings.Builder
		j := i + 2
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != fence; j++ {
			b.WriteString(lines[j])
		}
		require.Less(t, j, len(lines), "%s: the code block is not closed", path)
		require.NotContains(t, blocks, path, "%s is shown twice", path)
		blocks[path] = b.String()
		i = j
	}
	return blocks
}

// The model and its conformance test are shown in docs/model.md: the doc
// must show exactly the code that passes modeltest, so it cannot drift.
func TestDocShowsThisPackage(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "model.md"))
	require.NoError(t, err)
	blocks := docBlocks(t, string(doc))
	for _, path := range []string{"internal/mapmodel/model.go", "internal/mapmodel/model_test.go"} {
		t.Run(path, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
			require.NoError(t, err)
			shown, ok := blocks[path]
			require.True(t, ok, "docs/model.md does not show %s (a line <!-- file: %s --> before a ```go block)", path, path)
			assert.Equal(t, string(src), shown, "docs/model.md must show %s byte for byte", path)
		})
	}
	assert.Len(t, blocks, 2, "docs/model.md shows a file this test does not check")
}
