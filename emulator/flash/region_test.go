package flash_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/teeup/teeup/emulator/flash"
)

func TestRegion(t *testing.T) {
	type op func(r flash.Region) error
	read := func(off int64, n int) op {
		return func(r flash.Region) error { return r.Read(off, make([]byte, n)) }
	}
	prog := func(off int64, n int) op {
		return func(r flash.Region) error { return r.Program(off, pattern(n, 1)) }
	}
	eraseAt := func(off int64) op { return func(r flash.Region) error { return r.EraseSector(off) } }
	eraseAll := func(r flash.Region) error { return r.Erase() }

	slot := flash.Region{Offset: 64, Size: 128} // sectors 1 and 2
	for _, tc := range []struct {
		name    string
		region  flash.Region
		op      op
		wantErr error
	}{
		{"read the whole slot", slot, read(0, 128), nil},
		{"read at an odd offset", slot, read(3, 5), nil},
		{"program the first unit", slot, prog(0, 8), nil},
		{"program the last unit", slot, prog(120, 8), nil},
		{"erase the second sector", slot, eraseAt(64), nil},
		{"erase the whole slot", slot, eraseAll, nil},
		{"read past the slot", slot, read(120, 16), flash.ErrOutOfRange},
		{"read before the slot", slot, read(-1, 1), flash.ErrOutOfRange},
		{"program past the slot", slot, prog(128, 8), flash.ErrOutOfRange},
		{"program crossing the slot end", slot, prog(120, 16), flash.ErrOutOfRange},
		{"erase past the slot", slot, eraseAt(128), flash.ErrOutOfRange},
		{"erase mid-sector", slot, eraseAt(8), flash.ErrAlignment},
		{"program misaligned", slot, prog(4, 8), flash.ErrAlignment},
		{"region not sector-aligned", flash.Region{Offset: 32, Size: 64}, read(0, 1), flash.ErrAlignment},
		{"region size not whole sectors", flash.Region{Offset: 64, Size: 96}, eraseAll, flash.ErrAlignment},
		{"region past the flash", flash.Region{Offset: 192, Size: 128}, read(0, 1), flash.ErrOutOfRange},
		{"region before the flash", flash.Region{Offset: -64, Size: 128}, read(0, 1), flash.ErrOutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newMem(t, small)
			// Fill the sectors around the slot, so that an operation out of
			// place shows.
			for _, off := range []int64{0, 192} {
				if err := f.Program(off, pattern(64, byte(off))); err != nil {
					t.Fatal(err)
				}
			}
			before, ops := image(t, f), f.Ops()
			r := tc.region
			r.Flash = f
			err := tc.op(r)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("%v, want %v", err, tc.wantErr)
			}
			after := image(t, f)
			if tc.wantErr != nil {
				if !bytes.Equal(after, before) || f.Ops() != ops {
					t.Fatal("a refused region operation changed the flash")
				}
				return
			}
			if !bytes.Equal(after[:r.Offset], before[:r.Offset]) || !bytes.Equal(after[r.Offset+r.Size:], before[r.Offset+r.Size:]) {
				t.Fatal("a region operation changed bytes outside the region")
			}
		})
	}
}

func TestRegionTranslates(t *testing.T) {
	f := newMem(t, small)
	r := flash.Region{Flash: f, Offset: 128, Size: 128}
	if err := r.Erase(); err != nil {
		t.Fatal(err)
	}
	if f.Ops() != 2 {
		t.Fatalf("erasing two sectors counted %d operations", f.Ops())
	}
	data := pattern(16, 4)
	if err := r.Program(72, data); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 16)
	if err := f.Read(200, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("flash at 200: % x (%v)", got, err)
	}
	got = make([]byte, 16)
	if err := r.Read(72, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("region at 72: % x (%v)", got, err)
	}
	if err := r.EraseSector(64); err != nil {
		t.Fatal(err)
	}
	if img := image(t, f); !bytes.Equal(img, erasedImage(small.Size)) {
		t.Fatalf("image: % x", img)
	}
}

func TestRegionWithoutFlash(t *testing.T) {
	r := flash.Region{Offset: 0, Size: 64}
	for name, err := range map[string]error{
		"read":         r.Read(0, make([]byte, 1)),
		"program":      r.Program(0, pattern(8, 1)),
		"erase sector": r.EraseSector(0),
		"erase":        r.Erase(),
	} {
		if !errors.Is(err, flash.ErrOutOfRange) {
			t.Errorf("%s: %v, want ErrOutOfRange", name, err)
		}
	}
}
