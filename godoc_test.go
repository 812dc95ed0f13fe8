package creek

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// parseSources parses the Go files of dir but its tests, with comments.
func parseSources(t *testing.T, dir string) (*token.FileSet, []*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ParseComments)
	require.NoError(t, err)
	var files []*ast.File
	for _, p := range pkgs {
		for _, f := range p.Files {
			files = append(files, f)
		}
	}
	return fset, files
}

// Every exported name of the module's packages, the root's, creektest's,
// the command's and the internal ones', has a doc comment: a method of an
// exported type too, an interface's implementation included.
func TestExportedNamesHaveDocComments(t *testing.T) {
	dirs := []string{".", "creektest"}
	for _, root := range []string{"internal", "cmd"} {
		require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && d.Name() != "testdata" {
				dirs = append(dirs, path)
			}
			return err
		}))
	}
	var undocumented []string
	for _, dir := range dirs {
		if entries, _ := filepath.Glob(filepath.Join(dir, "*.go")); len(entries) == 0 {
			continue
		}
		fset, files := parseSources(t, dir)
		for _, f := range files {
			for _, name := range undocumentedNames(f) {
				undocumented = append(undocumented, fset.Position(name.Pos()).String()+" "+name.Name)
			}
		}
	}
	require.Empty(t, undocumented)
}

// undocumentedNames returns the exported names f declares without a doc
// comment: functions, methods of exported types, types, and constants and
// variables with neither a doc comment of their own or of their group nor
// a line comment.
func undocumentedNames(f *ast.File) []*ast.Ident {
	var out []*ast.Ident
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Name.IsExported() && d.Doc == nil && receiverExported(d) {
				out = append(out, d.Name)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
						out = append(out, s.Name)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() && s.Doc == nil && d.Doc == nil && s.Comment == nil {
							out = append(out, n)
						}
					}
				}
			}
		}
	}
	return out
}

// receiverExported reports whether d is a function, or a method of an
// exported type.
func receiverExported(d *ast.FuncDecl) bool {
	if d.Recv == nil {
		return true
	}
	t := d.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	if index, ok := t.(*ast.IndexExpr); ok { // a generic type's method
		t = index.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}
