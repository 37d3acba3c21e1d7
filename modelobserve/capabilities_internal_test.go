package modelobserve

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// notCapabilities are the interfaces of oauth2server whose methods take a
// context but that a Model does not implement.
var notCapabilities = []string{"Model", "ExtensionGrant"}

// Every interface of the root package whose methods all take a context
// first is a capability this package wraps, with the same methods: a new
// capability without a link would be found behind the chain, unobserved.
func TestCapabilitiesComplete(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "*.go"))
	require.NoError(t, err)
	fset := token.NewFileSet()
	want := map[string][]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		file, err := parser.ParseFile(fset, f, src, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range file.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				it, ok := ts.Type.(*ast.InterfaceType)
				if !ok || !ts.Name.IsExported() || slices.Contains(notCapabilities, ts.Name.Name) {
					continue
				}
				var methods []string
				allCtx := len(it.Methods.List) > 0
				for _, m := range it.Methods.List {
					ft, ok := m.Type.(*ast.FuncType)
					if !ok || len(m.Names) != 1 {
						allCtx = false // an embedded interface
						break
					}
					allCtx = allCtx && takesContext(ft)
					methods = append(methods, m.Names[0].Name)
				}
				if allCtx {
					want[ts.Name.Name] = methods
				}
			}
		}
	}
	require.NotEmpty(t, want, "parsed no capability: is the root package at ..?")
	got := map[string][]string{}
	for _, c := range capabilities {
		got[c.name] = c.methods
	}
	assert.Equal(t, want, got)
}

// takesContext reports whether the function's first parameter is a
// context.Context.
func takesContext(ft *ast.FuncType) bool {
	if ft.Params == nil || len(ft.Params.List) == 0 {
		return false
	}
	sel, ok := ft.Params.List[0].Type.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "context" && sel.Sel.Name == "Context"
}
