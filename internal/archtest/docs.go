package archtest

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// The ways a package comment can fall short of STYLE.md rule 19.
var (
	ErrNoDoc      = errors.New("no package comment")
	ErrDocPurpose = errors.New(`the package comment does not begin "Package NAME ..." ("Command NAME ..." for a command)`)
	ErrDocTrust   = errors.New(`the package comment does not say what the package trusts (a "Trust:" paragraph, or a sentence saying what it trusts)`)
)

// saysTrust matches a statement of what a package trusts: a paragraph
// "Trust: ...", a heading "# What it trusts", or a sentence with "trusts".
var saysTrust = regexp.MustCompile(`(?m)^Trust:|^# What it trusts|\btrusts\b`)

// CheckDoc checks that the package comment of p says what the package is
// for (it begins "Package NAME") and what it trusts. It parses only the
// package clauses of p's non-test files.
func CheckDoc(p *Package) error {
	var docs []string
	fset := token.NewFileSet()
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Path, err)
		}
		if f.Doc != nil {
			docs = append(docs, f.Doc.Text())
		}
	}
	if len(docs) == 0 {
		return fmt.Errorf("%s: %w", p.Path, ErrNoDoc)
	}
	doc := strings.Join(docs, "\n")
	want := "Package " + p.Name + " "
	if p.Name == "main" {
		want = "Command " + path.Base(p.Path) + " "
	}
	if !strings.Contains("\n"+doc, "\n"+want) {
		return fmt.Errorf("%s: %w", p.Path, ErrDocPurpose)
	}
	if !saysTrust.MatchString(doc) {
		return fmt.Errorf("%s: %w", p.Path, ErrDocTrust)
	}
	return nil
}
