package nethttp_test

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A net/http application must not pull in Echo: neither this package nor
// any package of the module it imports, however indirectly, imports Echo
// or package handlers.
func TestNoEchoDependency(t *testing.T) {
	t.Parallel()
	const module = "github.com/echo-oauth2/oauth2server"
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	seen := map[string]bool{}
	var walk func(path string)
	walk = func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		pkg, err := build.ImportDir(filepath.Join(root, strings.TrimPrefix(path, module)), 0)
		require.NoError(t, err, path)
		for _, imp := range pkg.Imports {
			assert.False(t, strings.HasPrefix(imp, "github.com/labstack/"), "%s imports %s", path, imp)
			assert.NotEqual(t, module+"/handlers", imp, "%s imports package handlers", path)
			if imp == module || strings.HasPrefix(imp, module+"/") {
				walk(imp)
			}
		}
	}
	walk(module + "/nethttp")
	assert.Contains(t, seen, module+"/internal/authorize", "the walk reached the shared code")
}
