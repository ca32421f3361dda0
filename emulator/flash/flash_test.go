package flash_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/teeup/teeup/emulator/flash"
)

// small is the geometry of most tests: four sectors of 64 bytes, programmed
// in units of 8.
var small = flash.Config{Size: 256, SectorSize: 64, WriteAlign: 8}

// step is one operation, both on a Flash and on the reference image that a
// test computes its expectations from.
type step struct {
	kind flash.OpKind
	off  int64
	data []byte // for a program
}

func program(off int64, data []byte) step { return step{kind: flash.OpProgram, off: off, data: data} }
func erase(off int64) step                { return step{kind: flash.OpErase, off: off} }

func (s step) String() string {
	if s.kind == flash.OpErase {
		return fmt.Sprintf("erase %#x", s.off)
	}
	return fmt.Sprintf("program %#x+%d", s.off, len(s.data))
}

func (s step) do(f *flash.Flash) error {
	if s.kind == flash.OpErase {
		return f.EraseSector(s.off)
	}
	return f.Program(s.off, s.data)
}

// apply is the NOR rule written the plainest way, for steps that succeed.
func (s step) apply(img []byte, sector int64) {
	if s.kind == flash.OpErase {
		copy(img[s.off:s.off+sector], bytes.Repeat([]byte{0xFF}, int(sector)))
		return
	}
	copy(img[s.off:], s.data)
}

// span is the range a step writes.
func (s step) span(sector int64) (int64, int64) {
	if s.kind == flash.OpErase {
		return s.off, s.off + sector
	}
	return s.off, s.off + int64(len(s.data))
}

// pattern returns n bytes that are never 0xFF, so that every one of them
// differs from erased flash.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i*7 + int(seed)) % 0xFF)
	}
	return b
}

func erasedImage(n int64) []byte { return bytes.Repeat([]byte{0xFF}, int(n)) }

func newMem(t testing.TB, cfg flash.Config) *flash.Flash {
	t.Helper()
	f, err := flash.NewMem(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func image(t testing.TB, f *flash.Flash) []byte {
	t.Helper()
	img := make([]byte, f.Config().Size)
	if err := f.Read(0, img); err != nil {
		t.Fatalf("read image: %v", err)
	}
	return img
}

func TestConfigInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  flash.Config
	}{
		{"zero", flash.Config{}},
		{"no write alignment", flash.Config{Size: 256, SectorSize: 64}},
		{"negative write alignment", flash.Config{Size: 256, SectorSize: 64, WriteAlign: -8}},
		{"sector not a multiple of the alignment", flash.Config{Size: 240, SectorSize: 60, WriteAlign: 16}},
		{"size not a multiple of the sector", flash.Config{Size: 200, SectorSize: 64, WriteAlign: 8}},
		{"no size", flash.Config{SectorSize: 64, WriteAlign: 8}},
		{"too large", flash.Config{Size: flash.MaxSize + 4096, SectorSize: 4096, WriteAlign: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := flash.NewMem(tc.cfg); !errors.Is(err, flash.ErrConfig) {
				t.Fatalf("NewMem: %v, want ErrConfig", err)
			}
		})
	}
}

func TestNewIsErased(t *testing.T) {
	f := newMem(t, small)
	if got := image(t, f); !bytes.Equal(got, erasedImage(small.Size)) {
		t.Fatalf("new flash is not erased: % x", got)
	}
}

// TestNORRules runs each case's steps in order; the last step is the one
// under test. A step that must fail must change neither the array nor Ops.
func TestNORRules(t *testing.T) {
	a := pattern(64, 1)
	for _, tc := range []struct {
		name    string
		steps   []step
		wantErr error // of the last step
	}{
		{"program clears bits", []step{program(0, []byte{0x0F, 0xF0, 0x00, 0x7E, 0xFF, 0x01, 0x80, 0x55})}, nil},
		{"program a whole sector", []step{program(64, a)}, nil},
		{"program the last unit", []step{program(248, a[:8])}, nil},
		{"program data that is all 0xFF", []step{program(0, erasedImage(8))}, nil},
		{"erase sets the sector to 0xFF", []step{program(0, a), program(64, a[:16]), erase(0)}, nil},
		{"erase an erased sector", []step{erase(192)}, nil},
		{"program after erase", []step{program(0, a), erase(0), program(0, pattern(64, 9))}, nil},
		{"program next to programmed bytes", []step{program(0, a[:8]), program(8, a[8:16])}, nil},
		{"empty program", []step{program(16, nil)}, nil},
		{"program across a sector boundary", []step{program(56, a[:16])}, nil},

		{"program over programmed bytes", []step{program(0, a[:8]), program(0, a[8:16])}, flash.ErrNotErased},
		{"program overlapping programmed bytes", []step{program(8, a[:8]), program(0, a[:16])}, flash.ErrNotErased},
		{"program 0xFF over programmed bytes", []step{program(0, a[:8]), program(0, erasedImage(8))}, flash.ErrNotErased},
		{"program over a torn-looking byte", []step{program(0, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE}), program(0, a[:8])}, flash.ErrNotErased},
		{"program across sectors onto a programmed unit", []step{program(184, a[:8]), program(64, pattern(128, 2))}, flash.ErrNotErased},
		{"program at a misaligned offset", []step{program(4, a[:8])}, flash.ErrAlignment},
		{"program a misaligned length", []step{program(0, a[:12])}, flash.ErrAlignment},
		{"program one byte", []step{program(0, a[:1])}, flash.ErrAlignment},
		{"program crossing the end", []step{program(248, a[:16])}, flash.ErrOutOfRange},
		{"program past the end", []step{program(256, a[:8])}, flash.ErrOutOfRange},
		{"program at a negative offset", []step{program(-8, a[:8])}, flash.ErrOutOfRange},
		{"erase mid-sector", []step{program(0, a), erase(8)}, flash.ErrAlignment},
		{"erase at a write unit", []step{erase(32)}, flash.ErrAlignment},
		{"erase past the end", []step{erase(256)}, flash.ErrOutOfRange},
		{"erase at a negative offset", []step{erase(-64)}, flash.ErrOutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newMem(t, small)
			want := erasedImage(small.Size)
			for i, s := range tc.steps {
				before, ops := image(t, f), f.Ops()
				err := s.do(f)
				if i < len(tc.steps)-1 || tc.wantErr == nil {
					if err != nil {
						t.Fatalf("%v: %v", s, err)
					}
					s.apply(want, small.SectorSize)
					wantOps := ops + 1
					if s.kind == flash.OpProgram && len(s.data) == 0 {
						wantOps = ops
					}
					if got := f.Ops(); got != wantOps {
						t.Errorf("%v: Ops = %d, want %d", s, got, wantOps)
					}
					continue
				}
				if !errors.Is(err, tc.wantErr) || !errors.Is(err, flash.ErrInvalidOp) {
					t.Fatalf("%v: %v, want %v", s, err, tc.wantErr)
				}
				if errors.Is(err, flash.ErrPowerCut) {
					t.Errorf("%v: a misuse reported as a power cut: %v", s, err)
				}
				if got := image(t, f); !bytes.Equal(got, before) {
					t.Errorf("%v failed but changed the array", s)
				}
				if got := f.Ops(); got != ops {
					t.Errorf("%v failed but was counted: Ops = %d, want %d", s, got, ops)
				}
			}
			if got := image(t, f); !bytes.Equal(got, want) {
				t.Fatalf("image:\n got % x\nwant % x", got, want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	f := newMem(t, small)
	data := pattern(64, 3)
	if err := f.Program(64, data); err != nil {
		t.Fatal(err)
	}
	want := erasedImage(small.Size)
	copy(want[64:], data)
	for _, tc := range []struct {
		name    string
		off     int64
		n       int
		wantErr error
	}{
		{"whole flash", 0, 256, nil},
		{"odd offset and length", 61, 7, nil},
		{"one byte", 127, 1, nil},
		{"last byte", 255, 1, nil},
		{"empty at the end", 256, 0, nil},
		{"crossing the end", 250, 7, flash.ErrOutOfRange},
		{"past the end", 257, 0, flash.ErrOutOfRange},
		{"negative offset", -1, 1, flash.ErrOutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := make([]byte, tc.n)
			err := f.Read(tc.off, p)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Read(%d, %d): %v, want %v", tc.off, tc.n, err, tc.wantErr)
			}
			if err == nil && !bytes.Equal(p, want[tc.off:tc.off+int64(tc.n)]) {
				t.Fatalf("Read(%d, %d) = % x", tc.off, tc.n, p)
			}
		})
	}
	if f.Ops() != 1 {
		t.Fatalf("reads were counted: Ops = %d", f.Ops())
	}
}

func TestLog(t *testing.T) {
	cfg := small
	cfg.Record = true
	f := newMem(t, cfg)
	f.CutTorn(4, 7)
	steps := []step{program(0, pattern(16, 1)), program(0, pattern(8, 2)), erase(0), program(8, pattern(8, 3))}
	for _, s := range steps {
		s.do(f)
	}
	want := []flash.Op{
		{Seq: 1, Kind: flash.OpProgram, Offset: 0, Len: 16, Outcome: flash.Applied},
		// The refused program is not there.
		{Seq: 2, Kind: flash.OpErase, Offset: 0, Len: 64, Outcome: flash.Applied},
		{Seq: 3, Kind: flash.OpProgram, Offset: 8, Len: 8, Outcome: flash.Applied},
	}
	if got := f.Log(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Log before the cut:\n got %v\nwant %v", got, want)
	}
	f.CutAfter(5) // replaces the torn cut, which has not fired
	f.Program(16, pattern(8, 4))
	f.Program(24, pattern(8, 5))
	want = append(want,
		flash.Op{Seq: 4, Kind: flash.OpProgram, Offset: 16, Len: 8, Outcome: flash.Applied},
		flash.Op{Seq: 5, Kind: flash.OpProgram, Offset: 24, Len: 8, Outcome: flash.AppliedThenCut},
	)
	if got := f.Log(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Log after the cut:\n got %v\nwant %v", got, want)
	}
	f.Reset()
	if got := f.Log(); got != nil {
		t.Fatalf("Log after Reset = %v", got)
	}
	if got := newMem(t, small).Log(); got != nil {
		t.Fatalf("Log without Record = %v", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	cfg := flash.Config{Size: 8 * 256, SectorSize: 256, WriteAlign: 16}
	f := newMem(t, cfg)
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			sector := int64(w) * cfg.SectorSize
			for round := range 3 {
				if err := f.EraseSector(sector); err != nil {
					t.Error(err)
					return
				}
				for off := int64(0); off < cfg.SectorSize; off += 16 {
					if err := f.Program(sector+off, pattern(16, byte(w+round))); err != nil {
						t.Error(err)
						return
					}
					p := make([]byte, 16)
					if err := f.Read(sector+off, p); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if got, want := f.Ops(), uint64(workers*3*(1+256/16)); got != want {
		t.Fatalf("Ops = %d, want %d", got, want)
	}
	img := image(t, f)
	for w := range workers {
		sector := img[w*256 : (w+1)*256]
		if want := bytes.Repeat(pattern(16, byte(w+2)), 16); !bytes.Equal(sector, want) {
			t.Errorf("sector %d: % x", w, sector)
		}
	}
}
