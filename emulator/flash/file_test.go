package flash_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/teeup/teeup/emulator/flash"
)

func open(t *testing.T, path string, cfg flash.Config) *flash.Flash {
	t.Helper()
	f, err := flash.Open(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOpenCreatesErasedImage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flash.img")
	f := open(t, path, small)
	defer f.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, erasedImage(small.Size)) {
		t.Fatalf("new image file: % x", raw)
	}
	if got := image(t, f); !bytes.Equal(got, raw) {
		t.Fatalf("new flash: % x", got)
	}
}

func TestPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flash.img")
	f := open(t, path, small)
	for _, s := range script() {
		if err := s.do(f); err != nil {
			t.Fatalf("%v: %v", s, err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := reference(len(script()))
	// The file is the raw array: what a restart reads back.
	if raw, err := os.ReadFile(path); err != nil || !bytes.Equal(raw, want) {
		t.Fatalf("image file (%v):\n got % x\nwant % x", err, raw, want)
	}
	f = open(t, path, small)
	defer f.Close()
	if got := image(t, f); !bytes.Equal(got, want) {
		t.Fatalf("reopened:\n got % x\nwant % x", got, want)
	}
	if f.Ops() != 0 {
		t.Fatalf("reopened flash has Ops = %d", f.Ops())
	}
	// NOR rules hold across the restart.
	if err := f.Program(0, pattern(8, 7)); !errors.Is(err, flash.ErrNotErased) {
		t.Fatalf("program over persisted bytes: %v, want ErrNotErased", err)
	}
}

// TestCutPersists reopens the image after each kind of cut, as a device
// reboots: the file holds exactly what Reset shows.
func TestCutPersists(t *testing.T) {
	for _, tc := range []struct {
		name string
		arm  func(*flash.Flash)
	}{
		{"before", func(f *flash.Flash) { f.CutBefore(3) }},
		{"after", func(f *flash.Flash) { f.CutAfter(3) }},
		{"torn erase", func(f *flash.Flash) { f.CutTorn(3, 42) }},
		{"torn program", func(f *flash.Flash) { f.CutTorn(4, 42) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "flash.img")
			f := open(t, path, small)
			tc.arm(f)
			for _, s := range script() {
				s.do(f)
			}
			if !f.PowerLost() {
				t.Fatal("the cut did not fire")
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			mem := newMem(t, small)
			tc.arm(mem)
			for _, s := range script() {
				s.do(mem)
			}
			mem.Reset()
			want := image(t, mem)

			f = open(t, path, small)
			defer f.Close()
			if got := image(t, f); !bytes.Equal(got, want) {
				t.Fatalf("reopened after the cut:\n got % x\nwant % x", got, want)
			}
		})
	}
}

func TestOpenWrongSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte short", 255},
		{"one sector short", 192},
		{"one byte long", 257},
		{"twice the size", 512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "flash.img")
			old := pattern(tc.size, 1)
			if err := os.WriteFile(path, old, 0o600); err != nil {
				t.Fatal(err)
			}
			if f, err := flash.Open(path, small); !errors.Is(err, flash.ErrWrongSize) {
				if f != nil {
					f.Close()
				}
				t.Fatalf("Open: %v, want ErrWrongSize", err)
			}
			if raw, err := os.ReadFile(path); err != nil || !bytes.Equal(raw, old) {
				t.Fatalf("Open changed the rejected file (%v)", err)
			}
		})
	}
}

func TestOpenInvalidConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flash.img")
	if _, err := flash.Open(path, flash.Config{Size: 100, SectorSize: 64, WriteAlign: 8}); !errors.Is(err, flash.ErrConfig) {
		t.Fatalf("Open: %v, want ErrConfig", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an invalid config created a file: %v", err)
	}
}

func TestOpenUnreadablePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no such dir", "flash.img")
	if _, err := flash.Open(path, small); err == nil || errors.Is(err, flash.ErrInvalidOp) {
		t.Fatalf("Open in a missing directory: %v", err)
	}
}

func TestClosed(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) *flash.Flash
	}{
		{"file", func(t *testing.T) *flash.Flash { return open(t, filepath.Join(t.TempDir(), "flash.img"), small) }},
		{"memory", func(t *testing.T) *flash.Flash {
			f, err := flash.NewMem(small)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.open(t)
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			for name, do := range map[string]func() error{
				"read":    func() error { return f.Read(0, make([]byte, 8)) },
				"program": func() error { return f.Program(0, pattern(8, 1)) },
				"erase":   func() error { return f.EraseSector(0) },
				"sync":    f.Sync,
				"close":   f.Close,
			} {
				if err := do(); !errors.Is(err, flash.ErrClosed) {
					t.Errorf("%s after Close: %v, want ErrClosed", name, err)
				}
			}
		})
	}
}

// TestDirectMatchesMemory runs the same operations, cuts included, on a
// direct (file-only) flash and on a file-backed one: the images must be
// identical byte for byte.
func TestDirectMatchesMemory(t *testing.T) {
	cfg := flash.Config{Size: 8 * 512, SectorSize: 512, WriteAlign: 16}
	for _, mode := range []string{"none", "before", "after", "torn"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			a, err := flash.Open(filepath.Join(dir, "a"), cfg)
			if err != nil {
				t.Fatal(err)
			}
			b, err := flash.OpenDirect(filepath.Join(dir, "b"), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []*flash.Flash{a, b} {
				switch mode {
				case "before":
					f.CutBefore(4)
				case "after":
					f.CutAfter(4)
				case "torn":
					f.CutTorn(4, 7)
				}
				f.Program(0, bytes.Repeat([]byte{0x5a}, 64))
				f.EraseSector(512)
				f.Program(512, bytes.Repeat([]byte{0x33}, 512))
				f.Program(1024, bytes.Repeat([]byte{0x0f}, 256))
				f.EraseSector(0)
				f.Reset()
			}
			ia, ib := make([]byte, cfg.Size), make([]byte, cfg.Size)
			if err := a.Read(0, ia); err != nil {
				t.Fatal(err)
			}
			if err := b.Read(0, ib); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ia, ib) {
				t.Fatal("direct and memory flash differ")
			}
			if err := b.Program(0, []byte{1}); !errors.Is(err, flash.ErrAlignment) {
				t.Errorf("direct program misaligned: %v", err)
			}
			if err := b.Program(512, bytes.Repeat([]byte{0}, 16)); !errors.Is(err, flash.ErrNotErased) {
				t.Errorf("direct program over programmed bytes: %v", err)
			}
			if _, err := b.Mapped(0, 16); !errors.Is(err, flash.ErrNotMapped) {
				t.Errorf("Mapped on a direct flash: %v", err)
			}
			a.Close()
			b.Close()
			fa, _ := os.ReadFile(filepath.Join(dir, "a"))
			fb, _ := os.ReadFile(filepath.Join(dir, "b"))
			if !bytes.Equal(fa, fb) {
				t.Fatal("the image files differ")
			}
		})
	}
}

// TestDirectMarksMatchMemory runs the same seeded random walk of erases,
// programs (over erased bytes, programmed ones and both), cuts of every
// kind, resets and reopenings on a direct flash, which skips the read-back
// where it knows the bytes are erased, and on a file-backed one, which
// always checks its memory: every step must succeed or fail alike and
// leave the same image.
func TestDirectMarksMatchMemory(t *testing.T) {
	cfg := flash.Config{Size: 8 * 64, SectorSize: 64, WriteAlign: 8}
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			dir := t.TempDir()
			pathA, pathB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			a, b := open(t, pathA, cfg), openDirect(t, pathB, cfg)
			defer func() { a.Close(); b.Close() }()
			rng := rand.New(rand.NewPCG(seed, 0))
			for i := range 3000 {
				var what string
				var do func(f *flash.Flash) error
				switch r := rng.IntN(20); {
				case r < 5:
					off := rng.Int64N(8) * 64
					what, do = fmt.Sprintf("erase %#x", off), func(f *flash.Flash) error { return f.EraseSector(off) }
				case r < 17:
					off := rng.Int64N(64) * 8
					n := min(rng.Int64N(12)*8, cfg.Size-off)
					data := make([]byte, n)
					for j := range data {
						if rng.IntN(4) != 0 { // some bytes stay 0xFF
							data[j] = byte(rng.Uint32())
						} else {
							data[j] = 0xFF
						}
					}
					what, do = fmt.Sprintf("program %#x+%d", off, n), func(f *flash.Flash) error { return f.Program(off, data) }
				case r < 18:
					mode, tear := rng.IntN(3), rng.Uint64()
					what, do = fmt.Sprint("arm cut ", mode), func(f *flash.Flash) error {
						if f.PowerLost() {
							return nil
						}
						switch n := f.Ops() + 1; mode {
						case 0:
							f.CutBefore(n)
						case 1:
							f.CutAfter(n)
						default:
							f.CutTorn(n, tear)
						}
						return nil
					}
				case r < 19:
					what, do = "reset", func(f *flash.Flash) error { f.Reset(); return nil }
				default:
					what = "reopen"
					a.Close()
					b.Close()
					a, b = open(t, pathA, cfg), openDirect(t, pathB, cfg)
					continue
				}
				ea, eb := do(a), do(b)
				for _, sentinel := range []error{nil, flash.ErrPowerCut, flash.ErrNotErased} {
					if errors.Is(ea, sentinel) != errors.Is(eb, sentinel) {
						t.Fatalf("step %d %s: memory %v, direct %v", i, what, ea, eb)
					}
				}
				if !a.PowerLost() {
					if ia, ib := image(t, a), image(t, b); !bytes.Equal(ia, ib) {
						t.Fatalf("step %d %s: images differ\nmemory % x\ndirect % x", i, what, ia, ib)
					}
				}
			}
		})
	}
}

func openDirect(t *testing.T, path string, cfg flash.Config) *flash.Flash {
	t.Helper()
	f, err := flash.OpenDirect(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
