package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Package is what the checks need to know of one package, as `go list
// -json` reports it. Import paths of the module are kept relative to it
// ("secure/suit"); standard-library paths stay as they are.
type Package struct {
	Path         string   // "secure/suit", or a standard package's path
	Name         string   // the package clause
	Dir          string   // its folder (empty for synthetic graphs)
	Ours         bool     // part of this module
	GoFiles      []string // its non-test files, relative to Dir
	Imports      []string // direct imports of its non-test files
	TestImports  []string // direct imports of its _test.go files (both test packages)
	Deps         []string // every package its non-test files reach, transitively
	IncludesTest bool     // it has test files
}

// IsTestKit reports whether p is a test kit: a package of ours named after
// the package above it plus "test", as net/http/httptest is (ipc/ipctest,
// secure/tpm/tpmtest, emulator/device/devicetest). A kit holds fakes and
// rigs for tests and must never be linked into production code. (A name
// merely ending in "test", like attest's, does not make a kit.)
func (p *Package) IsTestKit() bool {
	parent := path.Base(path.Dir(p.Path))
	return p.Ours && parent != "." && p.Name == parent+"test"
}

// Graph is a module's packages and everything they reach, by Path.
type Graph map[string]*Package

// ModuleRoot returns the folder holding go.mod at or above dir.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("archtest: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// listed is the subset of `go list -json` output that Load reads.
type listed struct {
	ImportPath   string
	Name         string
	Dir          string
	Standard     bool
	Module       *struct{ Path string }
	GoFiles      []string
	CgoFiles     []string
	Imports      []string
	Deps         []string
	TestGoFiles  []string
	XTestGoFiles []string
	TestImports  []string
	XTestImports []string
}

// Load lists the module at root and every package its packages and their
// tests reach, with `go list -deps -test`. Test variants ("p [p.test]")
// and test mains are dropped: a package's test imports are read from its
// own entry.
func Load(root string) (Graph, string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, "", fmt.Errorf("archtest: %w", err)
	}
	cmd := exec.Command(goTool, "list", "-deps", "-test", "-json", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, "", fmt.Errorf("archtest: go list: %w: %s", err, stderr.Bytes())
	}
	modCmd := exec.Command(goTool, "list", "-m")
	modCmd.Dir = root
	modOut, err := modCmd.Output()
	if err != nil {
		return nil, "", fmt.Errorf("archtest: go list -m: %w", err)
	}
	module := strings.TrimSpace(string(modOut))
	rel := func(p string) string {
		if p == module {
			return "."
		}
		if r, ok := strings.CutPrefix(p, module+"/"); ok {
			return r
		}
		return p
	}
	rels := func(ps []string) []string {
		out := make([]string, 0, len(ps))
		for _, p := range ps {
			out = append(out, rel(p))
		}
		return out
	}
	g := Graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var l listed
		if err := dec.Decode(&l); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, "", fmt.Errorf("archtest: go list output: %w", err)
		}
		if strings.Contains(l.ImportPath, " ") || strings.HasSuffix(l.ImportPath, ".test") {
			continue // a test variant or a test main
		}
		ours := l.Module != nil && l.Module.Path == module
		g[rel(l.ImportPath)] = &Package{
			Path:         rel(l.ImportPath),
			Name:         l.Name,
			Dir:          l.Dir,
			Ours:         ours,
			GoFiles:      append(append([]string(nil), l.GoFiles...), l.CgoFiles...),
			Imports:      rels(l.Imports),
			TestImports:  rels(union(l.TestImports, l.XTestImports)),
			Deps:         rels(l.Deps),
			IncludesTest: len(l.TestGoFiles)+len(l.XTestGoFiles) > 0,
		}
	}
	return g, module, nil
}

// union returns the paths in a or b, each once, sorted.
func union(a, b []string) []string {
	u := append(append([]string(nil), a...), b...)
	slices.Sort(u)
	return slices.Compact(u)
}
