package archtest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// A Rule constrains the imports of every package in the folder From and
// below it. Paths of the module are relative to it ("secure/suit"); a
// path in a rule covers the package and everything below it.
type Rule struct {
	From string
	// Deny lists what a package under From must never reach, directly or
	// through what it imports: folders of ours or standard packages.
	Deny []string
	// Closed: of our packages, a package under From imports directly only
	// those in Allow and those under From itself.
	Closed bool
	Allow  []string
	// Why is the reason, said when the rule is broken.
	Why string
}

// Rules are the import directions of the module (issue 10, and
// docs/architecture.md). The same rules hold for test files, except that
// any test may import a test kit, and test kits themselves are free: they
// exist to wire real parts (the TPM simulator, the emulated device) into
// tests.
var Rules = []Rule{
	{From: "secure", Deny: []string{"normal", "tam", "emulator", "net/http"},
		Why: "the secure world runs on real hardware, holds the keys and speaks to nobody but the normal world over ipc"},
	{From: "normal", Closed: true, Allow: []string{"ipc"},
		Why: "the normal world only forwards; all it has of the device is its end of the ipc channel"},
	{From: "attest", Deny: []string{"secure", "normal", "tam", "emulator", "ipc"},
		Why: "attestation is pure: evidence in, results out, usable by a verifier anywhere"},
	{From: "tam", Closed: true, Allow: []string{"secure/suit", "secure/teep", "secure/keys", "secure/reference", "secure/ta", "attest"},
		Why: "the TAM decides and never drives a device: it may use only the pure codecs, the authorizer, the TA identities and the reference values of an envelope"},
	{From: "emulator/flash", Closed: true,
		Why: "a hardware model imports nothing of ours"},
	{From: "emulator/tpm", Closed: true,
		Why: "a hardware model imports nothing of ours"},
}

// Violation is one import that breaks a rule.
type Violation struct {
	Pkg    string // the importing package
	Test   bool   // the import is in its test files
	Import string // what it imports directly
	Reach  string // the forbidden package, Import itself or one it reaches
	Why    string
}

func (v Violation) String() string {
	where := v.Pkg
	if v.Test {
		where += " (tests)"
	}
	if v.Reach != v.Import {
		return fmt.Sprintf("%s imports %s, which reaches %s: %s", where, v.Import, v.Reach, v.Why)
	}
	return fmt.Sprintf("%s imports %s: %s", where, v.Import, v.Why)
}

// Known is an import that breaks a rule and is being fixed: the check
// passes over it. Each entry names its issue.
type Known struct {
	Pkg    string
	Test   bool
	Import string
	Issue  string
}

// under reports whether path is dir or below it.
func under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}

func underAny(path string, dirs []string) bool {
	return slices.ContainsFunc(dirs, func(d string) bool { return under(path, d) })
}

// CheckImports returns every import of the graph's own packages that
// breaks one of rules, sorted, and production imports of a test kit.
func CheckImports(g Graph, rules []Rule) []Violation {
	var vs []Violation
	paths := make([]string, 0, len(g))
	for p := range g {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		p := g[path]
		if !p.Ours || p.IsTestKit() {
			continue
		}
		for _, test := range []bool{false, true} {
			imports := p.Imports
			if test {
				imports = p.TestImports
			}
			for _, imp := range imports {
				if imp == path {
					continue // an external test package imports the package
				}
				dep := g[imp]
				if dep != nil && dep.IsTestKit() {
					if !test {
						vs = append(vs, Violation{Pkg: path, Import: imp, Reach: imp,
							Why: "a test kit holds fakes and rigs for tests, never production code"})
					}
					continue
				}
				for _, r := range rules {
					if !under(path, r.From) {
						continue
					}
					vs = append(vs, checkRule(g, r, path, test, imp)...)
				}
			}
		}
	}
	return vs
}

// checkRule checks one direct import of path against r.
func checkRule(g Graph, r Rule, path string, test bool, imp string) []Violation {
	var vs []Violation
	if r.Closed && isOurs(g, imp) && !under(imp, r.From) && !underAny(imp, r.Allow) {
		vs = append(vs, Violation{Pkg: path, Test: test, Import: imp, Reach: imp, Why: r.Why})
	}
	if under(imp, r.From) && isOurs(g, imp) {
		return vs // checked against r as a package of its own
	}
	reach := []string{imp}
	if dep := g[imp]; dep != nil {
		reach = append(reach, dep.Deps...)
	}
	// One violation per denied folder: the import itself if it is denied,
	// else the denied folder's own package if reached, else the first
	// package reached in it.
	for _, d := range r.Deny {
		var hit string
		for _, q := range reach {
			if under(q, d) && (hit == "" || q == d) {
				hit = q
			}
			if under(imp, d) {
				hit = imp
				break
			}
		}
		if hit != "" {
			vs = append(vs, Violation{Pkg: path, Test: test, Import: imp, Reach: hit, Why: r.Why})
		}
	}
	return vs
}

// isOurs reports whether the graph holds imp as a package of the module.
func isOurs(g Graph, imp string) bool {
	if p := g[imp]; p != nil {
		return p.Ours
	}
	return false
}

// Unknown returns the violations that known does not excuse, and the
// entries of known that excused nothing (fixed since, to be removed).
func Unknown(vs []Violation, known []Known) (open []Violation, stale []Known) {
	used := make([]bool, len(known))
	for _, v := range vs {
		i := slices.IndexFunc(known, func(k Known) bool {
			return k.Pkg == v.Pkg && k.Test == v.Test && k.Import == v.Import
		})
		if i < 0 {
			open = append(open, v)
			continue
		}
		used[i] = true
	}
	for i, k := range known {
		if !used[i] {
			stale = append(stale, k)
		}
	}
	return open, stale
}
