package docsync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/echo-oauth2/oauth2server"

// knownImports maps the package names that blocks use without importing to
// the packages they name: this module's with the aliases of STYLE.md
// (oauthmw, oautherrors), its dependencies (middleware is Echo's), and the
// standard library. A block that imports one of these packages explicitly
// must use the same name. Add a package here when a page needs it.
var knownImports = map[string]string{
	"oauth2server": module,
	"handlers":     module + "/handlers",
	"memorymodel":  module + "/memorymodel",
	"modeltest":    module + "/modeltest",
	"mongomodel":   module + "/mongomodel",
	"nethttp":      module + "/nethttp",
	"modelobserve": module + "/modelobserve",
	"otelmodel":    module + "/otelmodel",
	"oautherrors":  module + "/errors",
	"oauthmw":      module + "/middleware",

	"echo":       "github.com/labstack/echo/v4",
	"middleware": "github.com/labstack/echo/v4/middleware",
	"jwt":        "github.com/golang-jwt/jwt/v5",
	"oauth2":     "golang.org/x/oauth2",
	"bson":       "go.mongodb.org/mongo-driver/v2/bson",
	"mongo":      "go.mongodb.org/mongo-driver/v2/mongo",
	"options":    "go.mongodb.org/mongo-driver/v2/mongo/options",
	"assert":     "github.com/stretchr/testify/assert",
	"require":    "github.com/stretchr/testify/require",
	"prometheus": "github.com/prometheus/client_golang/prometheus",
	"trace":      "go.opentelemetry.io/otel/trace",

	"base64":   "encoding/base64",
	"bytes":    "bytes",
	"context":  "context",
	"errors":   "errors",
	"filepath": "path/filepath",
	"fmt":      "fmt",
	"hex":      "encoding/hex",
	"hmac":     "crypto/hmac",
	"http":     "net/http",
	"httptest": "net/http/httptest",
	"io":       "io",
	"json":     "encoding/json",
	"log":      "log",
	"maps":     "maps",
	"os":       "os",
	"rand":     "crypto/rand",
	"sha256":   "crypto/sha256",
	"signal":   "os/signal",
	"slices":   "slices",
	"slog":     "log/slog",
	"sql":      "database/sql",
	"strconv":  "strconv",
	"strings":  "strings",
	"subtle":   "crypto/subtle",
	"sync":     "sync",
	"template": "html/template",
	"testing":  "testing",
	"time":     "time",
	"url":      "net/url",
}

var packageClause = regexp.MustCompile(`(?m)^package \w+`)

// form is how a block becomes Go source.
type form int

const (
	formFile   form = iota // a whole file, package clause included
	formDecls              // declarations, at package level
	formStmts              // statements: the body of a function
	formFields             // the elements of a composite literal
)

// The wrappers of the statement and literal forms when no context
// declares one.
const (
	defaultFunc    = "func _()"
	defaultLiteral = "oauth2server.Options"
)

// A blockPackage is a block made into the files of a package.
type blockPackage struct {
	block goBlock
	form  form
	files []*ast.File
	// mayBeUnused holds what is not reported as unused: the variables a
	// statements block declares at its top level (the prose goes on with
	// them) and the imports of a block that shows only imports.
	mayBeUnused []span
	// shown holds the import specs that the block itself writes.
	shown []*ast.ImportSpec
}

type span struct{ from, to token.Pos }

// wrappers is what the contexts of a block say about its wrapping, and
// their Go text without the declarations that said it.
type wrappers struct {
	decls       string // the contexts' declarations, each after a //line directive
	fn, lit     string // "func _(ctx context.Context) error", "oauth2server.Options"
	fnAt, litAt int    // the lines that declared them
}

// lineDirective makes the lines that follow it report positions in the
// page, starting at line.
func lineDirective(page string, line int) string {
	return fmt.Sprintf("//line %s:%d\n", page, line)
}

// contextWrappers parses the contexts of b, takes out of them the
// declarations that give the function of a statements block (a func _
// without a body) and the type of a literal block (var _ T), and returns
// the rest.
func contextWrappers(fset *token.FileSet, b goBlock) (wrappers, error) {
	w := wrappers{fn: defaultFunc, lit: defaultLiteral, fnAt: b.fence, litAt: b.fence}
	var decls strings.Builder
	for _, c := range b.contexts {
		head := "package p\n" + lineDirective(b.page, c.line)
		src := []byte(head + c.src)
		f, err := parser.ParseFile(fset, "context.go", src, parser.SkipObjectResolution)
		if err != nil {
			return w, err
		}
		tf := fset.File(f.Pos())
		text := func(n ast.Node) string { return string(src[tf.Offset(n.Pos()):tf.Offset(n.End())]) }
		blank := func(n ast.Node) {
			for i := tf.Offset(n.Pos()); i < tf.Offset(n.End()); i++ {
				if src[i] != '\n' {
					src[i] = ' '
				}
			}
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Name.Name == "_" && d.Recv == nil && d.Body == nil {
					w.fn, w.fnAt = text(d), fset.Position(d.Pos()).Line
					blank(d)
				}
			case *ast.GenDecl:
				if d.Tok != token.VAR || d.Lparen.IsValid() || len(d.Specs) != 1 {
					continue
				}
				s := d.Specs[0].(*ast.ValueSpec)
				if len(s.Names) == 1 && s.Names[0].Name == "_" && s.Type != nil && s.Values == nil {
					w.lit, w.litAt = text(s.Type), fset.Position(d.Pos()).Line
					blank(d)
				}
			}
		}
		decls.WriteString(lineDirective(b.page, c.line))
		decls.Write(src[len(head):])
		decls.WriteString("\n")
	}
	w.decls = decls.String()
	return w, nil
}

// sources returns the Go files of b in form f, with imports (an import
// declaration or "") on the line of the opening fence.
func sources(b goBlock, f form, w wrappers, pkgName, imports string) []string {
	head := lineDirective(b.page, b.fence) + "package " + pkgName + "; " + imports + "\n"
	code := lineDirective(b.page, b.fence+1) + b.src + "\n"
	end := lineDirective(b.page, b.end)
	switch f {
	case formFile:
		if w.decls == "" {
			return []string{code}
		}
		return []string{code, head + w.decls}
	case formDecls:
		// The block first: its imports must come before the contexts'
		// declarations.
		return []string{head + code + w.decls}
	case formStmts:
		// The panic ends the function for a block that leaves the rest
		// of it, return included, to the prose.
		return []string{head + w.decls + lineDirective(b.page, w.fnAt) + w.fn + " {\n" + code + end + "panic(0) }\n"}
	default:
		return []string{head + w.decls + lineDirective(b.page, w.litAt) + "var _ = " + w.lit + "{\n" + code + end + "}\n"}
	}
}

// parseSources parses the files of a block. The file names have no
// directory, so that the pages named by //line stay relative to the root.
func parseSources(fset *token.FileSet, srcs []string) ([]*ast.File, error) {
	var files []*ast.File
	for i, src := range srcs {
		f, err := parser.ParseFile(fset, fmt.Sprintf("block%d.go", i), src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// prepare makes b into a package: it finds the block's form, adds the
// contexts, and imports the known packages the block and its contexts
// use by name without declaring them.
func prepare(fset *token.FileSet, b goBlock) (*blockPackage, error) {
	w, err := contextWrappers(fset, b)
	if err != nil {
		return nil, err
	}
	p := &blockPackage{block: b}
	var files []*ast.File
	pkgName := "docblock"
	if packageClause.MatchString(b.src) {
		p.form = formFile
		if files, err = parseSources(fset, sources(b, formFile, wrappers{}, "", "")); err != nil {
			return nil, err
		}
		if len(b.contexts) == 0 {
			p.files, p.shown = files, files[0].Imports
			return p, nil
		}
		// The contexts go into another file of the block's package.
		pkgName = files[0].Name.Name
		if files, err = parseSources(fset, sources(b, formFile, w, pkgName, "")); err != nil {
			return nil, err
		}
	} else {
		var stmtsErr error
		for _, f := range []form{formDecls, formStmts, formFields} {
			files, err = parseSources(fset, sources(b, f, w, pkgName, ""))
			if err == nil {
				p.form = f
				break
			}
			if f == formStmts {
				stmtsErr = err // the likeliest form of a block that does not parse
			}
		}
		if files == nil {
			return nil, stmtsErr
		}
	}

	// Import the known packages that the generated file uses by name,
	// unless the block imports them itself.
	last := files[len(files)-1]
	explicit := map[string]bool{}
	for _, s := range last.Imports {
		path, _ := strconv.Unquote(s.Path.Value)
		explicit[path] = true
		if s.Name != nil {
			explicit[s.Name.Name] = true
		}
	}
	var specs []string
	for _, name := range freeQualifiers(last) {
		if path, ok := knownImports[name]; ok && !explicit[name] && !explicit[path] {
			specs = append(specs, fmt.Sprintf("%s %q", name, path))
		}
	}
	imports := ""
	if len(specs) > 0 {
		imports = "import (" + strings.Join(specs, "; ") + ")"
	}
	if p.files, err = parseSources(fset, sources(b, p.form, w, pkgName, imports)); err != nil {
		return nil, err
	}
	// The specs the block writes, not those added on the fence's line.
	for _, f := range p.files {
		for _, s := range f.Imports {
			if fset.Position(s.Pos()).Line != b.fence {
				p.shown = append(p.shown, s)
			}
		}
	}

	last = p.files[len(p.files)-1]
	switch p.form {
	case formStmts:
		body := last.Decls[len(last.Decls)-1].(*ast.FuncDecl).Body
		for _, s := range body.List {
			var names []ast.Expr
			switch s := s.(type) {
			case *ast.AssignStmt:
				if s.Tok == token.DEFINE {
					names = s.Lhs
				}
			case *ast.DeclStmt:
				if g := s.Decl.(*ast.GenDecl); g.Tok == token.VAR {
					for _, spec := range g.Specs {
						for _, n := range spec.(*ast.ValueSpec).Names {
							names = append(names, n)
						}
					}
				}
			}
			for _, n := range names {
				p.mayBeUnused = append(p.mayBeUnused, span{n.Pos(), n.End()})
			}
		}
	case formDecls:
		onlyImports := true
		for _, d := range last.Decls {
			if pos := fset.Position(d.Pos()); pos.Line > b.fence && pos.Line < b.end {
				if g, ok := d.(*ast.GenDecl); !ok || g.Tok != token.IMPORT {
					onlyImports = false
				}
			}
		}
		if onlyImports {
			for _, s := range p.shown {
				p.mayBeUnused = append(p.mayBeUnused, span{s.Pos(), s.End()})
			}
		}
	}
	return p, nil
}

// freeQualifiers returns the names used as X in X.Sel that f does not
// declare anywhere: the package names it needs.
func freeQualifiers(f *ast.File) []string {
	declared, used := map[string]bool{}, map[string]bool{}
	declare := func(ids ...*ast.Ident) {
		for _, id := range ids {
			declared[id.Name] = true
		}
	}
	declareExprs := func(es ...ast.Expr) {
		for _, e := range es {
			if id, ok := e.(*ast.Ident); ok {
				declare(id)
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if id, ok := n.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		case *ast.Field:
			declare(n.Names...)
		case *ast.ValueSpec:
			declare(n.Names...)
		case *ast.TypeSpec:
			declare(n.Name)
		case *ast.FuncDecl:
			declare(n.Name)
		case *ast.ImportSpec:
			if n.Name != nil {
				declare(n.Name)
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				declareExprs(n.Lhs...)
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				declareExprs(n.Key, n.Value)
			}
		}
		return true
	})
	var free []string
	for name := range used {
		if !declared[name] {
			free = append(free, name)
		}
	}
	slices.Sort(free)
	return free
}

// problems formats a parse error as "docs/page.md:line: message".
func problems(err error) []string {
	var list scanner.ErrorList
	if el, ok := err.(scanner.ErrorList); ok {
		list = el
	} else if e, ok := err.(*scanner.Error); ok {
		list = scanner.ErrorList{e}
	} else {
		return []string{err.Error()}
	}
	if len(list) == 0 {
		return nil
	}
	// The first only: the others mostly follow from it.
	return []string{fmt.Sprintf("%s:%d: %s", list[0].Pos.Filename, list[0].Pos.Line, list[0].Msg)}
}

// check type-checks p with imp and returns its problems, as
// "docs/page.md:line: message".
func check(fset *token.FileSet, imp types.Importer, p *blockPackage) []string {
	var out []string
	report := func(pos token.Pos, format string, args ...any) {
		at := fset.Position(pos)
		out = append(out, fmt.Sprintf("%s:%d: %s", at.Filename, at.Line, fmt.Sprintf(format, args...)))
	}
	conf := types.Config{
		Importer: imp,
		Error: func(err error) {
			te := err.(types.Error)
			if te.Soft && slices.ContainsFunc(p.mayBeUnused, func(s span) bool { return s.from <= te.Pos && te.Pos < s.to }) {
				return
			}
			report(te.Pos, "%s", te.Msg)
		},
	}
	info := &types.Info{Defs: map[*ast.Ident]types.Object{}, Implicits: map[ast.Node]types.Object{}}
	_, _ = conf.Check("docblock", fset, p.files, info) // the errors went to conf.Error

	// A block that imports a package names it as every page does: a
	// name of knownImports is never another package, and a package of
	// knownImports outside the standard library has no other name (the
	// library's own files may call errors stderrors).
	for _, s := range p.shown {
		pn := info.PkgNameOf(s)
		if pn == nil || pn.Name() == "_" || pn.Name() == "." {
			continue
		}
		path := pn.Imported().Path()
		if known, ok := knownImports[pn.Name()]; ok && known != path {
			report(s.Pos(), "%q imported as %s, the name of %q on every page", path, pn.Name(), known)
		}
		if first, _, _ := strings.Cut(path, "/"); !strings.Contains(first, ".") {
			continue
		}
		for name, known := range knownImports {
			if known == path && name != pn.Name() {
				report(s.Pos(), "%q imported as %s; every page calls it %s", path, pn.Name(), name)
			}
		}
	}
	return out
}

// importPaths returns the packages that the files of pkgs import.
func importPaths(pkgs []*blockPackage) []string {
	var paths []string
	for _, p := range pkgs {
		for _, f := range p.files {
			for _, s := range f.Imports {
				path, _ := strconv.Unquote(s.Path.Value)
				if !slices.Contains(paths, path) {
					paths = append(paths, path)
				}
			}
		}
	}
	slices.Sort(paths)
	return paths
}

// exportImporter returns an importer that reads the export data of the
// packages at paths, which go list compiles (or finds in the build cache)
// with the flags of this test binary.
func exportImporter(t *testing.T, fset *token.FileSet, paths []string) types.Importer {
	t.Helper()
	args := []string{"list", "-e", "-export", "-json=ImportPath,Export,Error"}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, paths...)...)
	cmd.Dir = filepath.Join("..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export: %v\n%s", err, stderr.Bytes())
	}
	exports := map[string]string{}
	failures := map[string]string{}
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p struct {
			ImportPath string
			Export     string
			Error      *struct{ Err string }
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list -export: %v", err)
		}
		exports[p.ImportPath] = p.Export
		if p.Error != nil {
			failures[p.ImportPath] = p.Error.Err
		}
	}
	return importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		if msg, ok := failures[path]; ok {
			return nil, fmt.Errorf("go list: %s", msg)
		}
		if exports[path] == "" {
			return nil, fmt.Errorf("go list gave no export data for %s", path)
		}
		return os.Open(exports[path])
	})
}
