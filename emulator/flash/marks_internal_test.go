package flash

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestMarksDecideReadBack checks when a direct flash reads the file back
// before a program: the file is swapped for a write-only one, so that a
// read-back fails and a program that skips it succeeds. The last step of
// each case is the one under test.
func TestMarksDecideReadBack(t *testing.T) {
	cfg := Config{Size: 4 * 64, SectorSize: 64, WriteAlign: 8}
	data := func(n int) []byte { return bytes.Repeat([]byte{0x5a}, n) }
	type step func(f *Flash) error
	erase := func(off int64) step { return func(f *Flash) error { return f.EraseSector(off) } }
	program := func(off int64, n int) step { return func(f *Flash) error { return f.Program(off, data(n)) } }
	cut := func(arm func(f *Flash, n uint64)) step {
		return func(f *Flash) error { arm(f, f.Ops()+1); return nil }
	}
	reset := func(f *Flash) error { f.Reset(); return nil }
	for _, tc := range []struct {
		name     string
		steps    []step
		readBack bool
	}{
		{"never erased since open", []step{program(0, 8)}, true},
		{"erased sector", []step{erase(0), program(0, 64)}, false},
		{"erased sector, at an offset", []step{erase(0), program(16, 8)}, false},
		{"after the last program", []step{erase(0), program(0, 16), program(16, 16)}, false},
		{"past a gap", []step{erase(0), program(0, 8), program(32, 8)}, false},
		{"below the mark", []step{erase(0), program(32, 8), program(0, 8)}, true},
		{"over the last program", []step{erase(0), program(0, 16), program(8, 16)}, true},
		{"sector programmed to its end", []step{erase(0), program(0, 64), program(0, 8)}, true},
		{"across two erased sectors", []step{erase(64), erase(128), program(96, 64)}, false},
		{"across an erased and an unknown sector", []step{erase(64), program(96, 64)}, true},
		{"into a sector entered mid-way", []step{erase(0), erase(64), program(32, 64), program(96, 8)}, false},
		{"erased again after programs", []step{erase(0), program(0, 64), erase(0), program(0, 64)}, false},
		{"erase cut after it applied", []step{cut((*Flash).CutAfter), erase(0), reset, program(0, 8)}, false},
		{"erase dropped by a cut", []step{erase(0), program(0, 8), cut((*Flash).CutBefore), erase(0), reset, program(8, 8)}, true},
		{"torn erase", []step{erase(0), cut(func(f *Flash, n uint64) { f.CutTorn(n, 3) }), erase(0), reset, program(32, 8)}, true},
		{"past a torn program", []step{erase(0), cut(func(f *Flash, n uint64) { f.CutTorn(n, 3) }), program(0, 16), reset, program(16, 8)}, false},
		{"erase survives a later cut", []step{erase(0), cut((*Flash).CutBefore), erase(64), reset, program(0, 8)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "flash.img")
			f, err := OpenDirect(path, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			wo, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.file.Close()
			f.file = wo
			last := len(tc.steps) - 1
			for i, s := range tc.steps[:last] {
				// A torn operation reads what it tears; with the file
				// write-only it tears as if over the new data.
				if err := s(f); err != nil && !errors.Is(err, ErrPowerCut) {
					t.Fatalf("step %d: %v", i+1, err)
				}
			}
			err = tc.steps[last](f)
			if got := err != nil; got != tc.readBack {
				t.Fatalf("last step: %v; want a read-back: %v", err, tc.readBack)
			}
			if err != nil && errors.Is(err, ErrInvalidOp) {
				t.Fatalf("last step refused rather than read back: %v", err)
			}
		})
	}
}

// TestMarksBounded: past maxMarks erased sectors, a direct flash forgets
// the newest rather than grow, and checks them by reading them back.
func TestMarksBounded(t *testing.T) {
	cfg := Config{Size: (maxMarks + 2) * 16, SectorSize: 16, WriteAlign: 16}
	f, err := OpenDirect(filepath.Join(t.TempDir(), "flash.img"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for off := int64(0); off < cfg.Size; off += cfg.SectorSize {
		if err := f.EraseSector(off); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.marks) != maxMarks {
		t.Fatalf("%d sectors marked, bound %d", len(f.marks), maxMarks)
	}
	if !f.knownErased(0, 16) || f.knownErased(cfg.Size-16, 16) {
		t.Fatal("the first sector should be marked, the last not")
	}
	if err := f.Program(cfg.Size-16, bytes.Repeat([]byte{1}, 16)); err != nil {
		t.Fatal(err)
	}
	if err := f.Program(cfg.Size-16, bytes.Repeat([]byte{0}, 16)); !errors.Is(err, ErrNotErased) {
		t.Fatalf("program over an unmarked programmed sector: %v, want ErrNotErased", err)
	}
}
