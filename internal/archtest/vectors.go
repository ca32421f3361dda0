package archtest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// ErrCopiesDiffer: two copies of a published vector set (folders of the same
// name directly under testdata/ folders, each with a README) hold a file of
// the same name with different bytes.
var ErrCopiesDiffer = errors.New("copies of a vector set differ")

// CheckVectorCopies finds the vector sets under root (a folder directly
// under a testdata/ folder, holding a README.md that names its source) and
// checks that the copies of a set in different packages agree byte for byte
// on every file they both hold: a vector is copied, never edited.
func CheckVectorCopies(root string) (sets int, err error) {
	byName := map[string][]string{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() && filepath.Base(filepath.Dir(p)) == "testdata" {
			if _, err := os.Stat(filepath.Join(p, "README.md")); err == nil {
				byName[d.Name()] = append(byName[d.Name()], p)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var errs []error
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		dirs := byName[n]
		sets++
		first := map[string]string{} // file name -> the first copy's path
		for _, dir := range dirs {
			entries, err := os.ReadDir(dir)
			if err != nil {
				return sets, err
			}
			for _, e := range entries {
				if e.IsDir() {
					continue
				}
				p := filepath.Join(dir, e.Name())
				prev, ok := first[e.Name()]
				if !ok {
					first[e.Name()] = p
					continue
				}
				a, err := os.ReadFile(prev)
				if err != nil {
					return sets, err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return sets, err
				}
				if !bytes.Equal(a, b) {
					ra, _ := filepath.Rel(root, prev)
					rb, _ := filepath.Rel(root, p)
					errs = append(errs, fmt.Errorf("%w: %s and %s", ErrCopiesDiffer, ra, rb))
				}
			}
		}
	}
	return sets, errors.Join(errs...)
}
