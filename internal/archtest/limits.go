package archtest

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
)

// ErrBoundOutsideLimits: a package declares a bound outside its limits.go
// (STYLE.md rule 6: all size and count bounds of a package live in one
// limits.go, so that a reviewer finds every one of them in one place).
var ErrBoundOutsideLimits = errors.New("bound declared outside limits.go")

// isBound matches the names of bounds: MaxFrame, maxReason, ...
var isBound = regexp.MustCompile(`^[Mm]ax[A-Z0-9]`)

// CheckLimits returns an error for each constant of p named like a bound
// (Max..., max...) that is declared in a non-test file other than
// limits.go, and for each field named like one (a decoder's MaxMapPairs,
// ...) set to a number written in place there. Test kits are exempt: they
// are test code.
func CheckLimits(p *Package) error {
	if p.IsTestKit() {
		return nil
	}
	var errs []error
	fset := token.NewFileSet()
	for _, name := range p.GoFiles {
		if name == "limits.go" {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Path, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			if key, ok := kv.Key.(*ast.Ident); ok && isBound.MatchString(key.Name) && writtenInPlace(kv.Value) {
				errs = append(errs, fmt.Errorf("%w: %s: %s:%d: %s is a number written in place (name it in limits.go)",
					ErrBoundOutsideLimits, p.Path, name, fset.Position(kv.Pos()).Line, key.Name))
			}
			return true
		})
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				for _, id := range spec.(*ast.ValueSpec).Names {
					if isBound.MatchString(id.Name) {
						errs = append(errs, fmt.Errorf("%w: %s.%s in %s", ErrBoundOutsideLimits, p.Path, id.Name, name))
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// writtenInPlace reports whether the expression is a bound written as a
// bare number ("16", "1 << 16"), not one derived from a name ("MaxEvents
// * 2", "30 * time.Second").
func writtenInPlace(e ast.Expr) bool {
	number, name := false, false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			number = number || n.Kind == token.INT || n.Kind == token.FLOAT
		case *ast.Ident:
			name = true
		}
		return true
	})
	return number && !name
}
