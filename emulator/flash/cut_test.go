package flash_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/teeup/teeup/emulator/flash"
)

// script is an update in miniature on the small flash: fill a sector,
// half-fill another, then erase and rewrite both. Every step is valid from
// the start, so a cut anywhere leaves a state the script could reach.
func script() []step {
	return []step{
		program(0, pattern(64, 1)),  // 1: the whole of sector 0
		program(64, pattern(32, 2)), // 2: the first half of sector 1
		erase(0),                    // 3: a sector with no 0xFF byte
		program(0, pattern(16, 3)),  // 4
		erase(64),                   // 5: a sector half erased already
		program(72, pattern(24, 4)), // 6
	}
}

// reference is the image after the first n steps of the script.
func reference(n int) []byte {
	img := erasedImage(small.Size)
	for _, s := range script()[:n] {
		s.apply(img, small.SectorSize)
	}
	return img
}

// runCut runs the script on a fresh flash with a cut armed at op n, checks
// everything the cut promises while the power is lost, and returns the
// image after Reset.
func runCut(t *testing.T, n uint64, arm func(*flash.Flash, uint64)) []byte {
	t.Helper()
	f := newMem(t, small)
	arm(f, n)
	for i, s := range script() {
		err := s.do(f)
		switch op := uint64(i + 1); {
		case op < n && err != nil:
			t.Fatalf("op %d %v before the cut: %v", op, s, err)
		case op >= n && !errors.Is(err, flash.ErrPowerCut):
			t.Fatalf("op %d %v at or after a cut at %d: %v, want ErrPowerCut", op, s, n, err)
		}
	}
	if int(n) > len(script()) {
		if f.PowerLost() {
			t.Fatal("a cut past the last operation fired")
		}
		return image(t, f)
	}
	if !f.PowerLost() {
		t.Fatal("PowerLost = false after the cut")
	}
	if f.Ops() != n {
		t.Fatalf("Ops = %d after a cut at %d", f.Ops(), n)
	}
	assertDead(t, f)
	f.Reset()
	if f.PowerLost() || f.Ops() != 0 {
		t.Fatalf("after Reset: PowerLost = %v, Ops = %d", f.PowerLost(), f.Ops())
	}
	img := image(t, f)
	// The flash works again, and the cut does not fire twice.
	if err := f.EraseSector(192); err != nil {
		t.Fatalf("erase after Reset: %v", err)
	}
	if err := f.Program(192, pattern(64, 9)); err != nil {
		t.Fatalf("program after Reset: %v", err)
	}
	return img
}

// assertDead checks that, while the power is lost, every access fails with
// ErrPowerCut, misuses included, and that none of them changes the array.
func assertDead(t *testing.T, f *flash.Flash) {
	t.Helper()
	r := flash.Region{Flash: f, Offset: 128, Size: 128}
	for name, do := range map[string]func() error{
		"read":                func() error { return f.Read(0, make([]byte, 8)) },
		"empty read":          func() error { return f.Read(0, nil) },
		"program":             func() error { return f.Program(192, pattern(8, 5)) },
		"empty program":       func() error { return f.Program(192, nil) },
		"misaligned program":  func() error { return f.Program(193, pattern(3, 5)) },
		"erase":               func() error { return f.EraseSector(192) },
		"misaligned erase":    func() error { return f.EraseSector(200) },
		"region read":         func() error { return r.Read(0, make([]byte, 8)) },
		"region program":      func() error { return r.Program(64, pattern(8, 5)) },
		"region erase sector": func() error { return r.EraseSector(64) },
		"region erase":        func() error { return r.Erase() },
	} {
		if err := do(); !errors.Is(err, flash.ErrPowerCut) {
			t.Errorf("%s after the cut: %v, want ErrPowerCut", name, err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Errorf("Sync after the cut: %v", err)
	}
}

func TestCutBeforeAndAfter(t *testing.T) {
	for _, mode := range []struct {
		name    string
		arm     func(*flash.Flash, uint64)
		applied func(n int) int // how many steps of the script the image shows
	}{
		{"before", (*flash.Flash).CutBefore, func(n int) int { return n - 1 }},
		{"after", (*flash.Flash).CutAfter, func(n int) int { return n }},
	} {
		for n := 1; n <= len(script())+1; n++ {
			t.Run(fmt.Sprintf("%s/%d", mode.name, n), func(t *testing.T) {
				got := runCut(t, uint64(n), mode.arm)
				want := reference(min(mode.applied(n), len(script())))
				if !bytes.Equal(got, want) {
					t.Fatalf("image:\n got % x\nwant % x", got, want)
				}
			})
		}
	}
}

// tornProgram reports how got lies between old and the programmed data:
// "old", "new" or "between". It fails the test unless got is a prefix of
// whole units of data, then at most one unit in which only bits that data
// clears are cleared, then units of old.
func tornProgram(t *testing.T, got, old, data []byte, unit int) string {
	t.Helper()
	torn := -1
	for u := 0; u < len(got); u += unit {
		g, o, d := got[u:u+unit], old[u:u+unit], data[u:u+unit]
		switch {
		case torn < 0 && bytes.Equal(g, d):
		case torn < 0:
			torn = u
			for i := range g {
				if g[i]&d[i] != d[i] || g[i]&^o[i] != 0 {
					t.Fatalf("torn unit at %d byte %d: %#02x, old %#02x, data %#02x", u, i, g[i], o[i], d[i])
				}
			}
		case !bytes.Equal(g, o):
			t.Fatalf("unit at %d after the torn unit at %d changed: % x, old % x", u, torn, g, o)
		}
	}
	switch {
	case bytes.Equal(got, data):
		return "new"
	case bytes.Equal(got, old):
		return "old"
	}
	return "between"
}

// tornErase reports whether a torn erase left the rest of the sector as it
// was ("kept") or not ("garbage"), and how many leading bytes are 0xFF.
func tornErase(got, old []byte) (string, int) {
	at := 0
	for at < len(got) && got[at] == 0xFF {
		at++
	}
	if bytes.Equal(got[at:], old[at:]) {
		return "kept", at
	}
	return "garbage", at
}

func TestCutTorn(t *testing.T) {
	const seeds = 24
	for n := 1; n <= len(script()); n++ {
		s := script()[n-1]
		t.Run(fmt.Sprintf("%d %v", n, s), func(t *testing.T) {
			old := reference(n - 1)
			lo, hi := s.span(small.SectorSize)
			outcomes := map[string]int{}
			images := map[string]bool{}
			for seed := uint64(1); seed <= seeds; seed++ {
				arm := func(f *flash.Flash, n uint64) { f.CutTorn(n, seed) }
				got := runCut(t, uint64(n), arm)
				if again := runCut(t, uint64(n), arm); !bytes.Equal(got, again) {
					t.Fatalf("seed %d tore differently twice:\n% x\n% x", seed, got, again)
				}
				images[string(got)] = true
				if !bytes.Equal(got[:lo], old[:lo]) || !bytes.Equal(got[hi:], old[hi:]) {
					t.Fatalf("seed %d changed bytes outside [%#x, %#x):\n got % x\n old % x", seed, lo, hi, got, old)
				}
				if s.kind == flash.OpProgram {
					outcomes[tornProgram(t, got[lo:hi], old[lo:hi], s.data, int(small.WriteAlign))]++
					continue
				}
				kind, at := tornErase(got[lo:hi], old[lo:hi])
				outcomes[kind]++
				if at > 0 && at < int(hi-lo) {
					outcomes["inside"]++
				}
			}
			t.Logf("outcomes over %d seeds: %v", seeds, outcomes)
			if len(images) < 2 {
				t.Errorf("%d seeds gave a single torn image", seeds)
			}
			switch {
			case s.kind == flash.OpProgram && outcomes["between"] == 0:
				t.Errorf("no seed left the program between old and new: %v", outcomes)
			case s.kind == flash.OpErase && n == 3 && (outcomes["kept"] == 0 || outcomes["garbage"] == 0 || outcomes["inside"] == 0):
				// Sector 0 holds no 0xFF before the erase, so every outcome
				// can be told apart.
				t.Errorf("a torn erase should sometimes keep the rest, sometimes leave garbage, and tear inside the sector: %v", outcomes)
			}
		})
	}
}

// TestCutTornGolden pins the torn content of a few seeds, so that the tear
// a failing test reports by its seed is the tear everyone reproduces.
func TestCutTornGolden(t *testing.T) {
	cfg := flash.Config{Size: 64, SectorSize: 32, WriteAlign: 8}
	progOp := func(f *flash.Flash) error { return f.Program(0, pattern(32, 5)) }
	eraseOp := func(f *flash.Flash) error { return f.EraseSector(0) }
	for _, tc := range []struct {
		name string
		seed uint64
		op   func(*flash.Flash) error
		want string // sector 0 after the tear
	}{
		// Units 0-1 programmed, unit 2 (bytes 16-23) torn, unit 3 erased.
		{"program", 1, progOp, "050c131a21282f363d444b525960676e" + "757cdbfef59b9faf" + "ffffffffffffffff"},
		// Unit 0 torn, the rest erased.
		{"program", 6, progOp, "95fd7b1ee13e2fbe" + "ffffffffffffffffffffffffffffffffffffffffffffffff"},
		// Units 0-2 programmed, unit 3 torn.
		{"program", 12, progOp, "050c131a21282f363d444b525960676e757c838a91989fa6" + "adb6bffefbf1dfff"},
		// 26 bytes erased, the other 6 garbage (the program left bbc2c9d0d7de).
		{"erase", 1, eraseOp, "ffffffffffffffffffffffffffffffffffffffffffffffffffff" + "30dbf4f59b13"},
		// 30 bytes erased, the last two as the program left them.
		{"erase", 2, eraseOp, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" + "d7de"},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.name, tc.seed), func(t *testing.T) {
			f := newMem(t, cfg)
			if tc.name == "erase" {
				if err := f.Program(0, pattern(32, 5)); err != nil {
					t.Fatal(err)
				}
			}
			f.CutTorn(f.Ops()+1, tc.seed)
			if err := tc.op(f); !errors.Is(err, flash.ErrPowerCut) {
				t.Fatalf("torn op: %v", err)
			}
			f.Reset()
			img := image(t, f)
			if got := hex.EncodeToString(img[:32]); got != tc.want {
				t.Errorf("sector 0 = %s, want %s", got, tc.want)
			}
			if !bytes.Equal(img[32:], erasedImage(32)) {
				t.Errorf("sector 1 changed: % x", img[32:])
			}
		})
	}
}

func TestRefusedOpsDoNotReachTheCut(t *testing.T) {
	f := newMem(t, small)
	f.CutBefore(1)
	for _, s := range []step{program(4, pattern(8, 1)), program(0, pattern(12, 1)), erase(8), erase(256), program(0, nil)} {
		if err := s.do(f); errors.Is(err, flash.ErrPowerCut) {
			t.Fatalf("%v: %v", s, err)
		}
	}
	if f.PowerLost() || f.Ops() != 0 {
		t.Fatalf("PowerLost = %v, Ops = %d after refused operations only", f.PowerLost(), f.Ops())
	}
	if err := f.Program(0, pattern(8, 1)); !errors.Is(err, flash.ErrPowerCut) {
		t.Fatalf("first valid op: %v, want ErrPowerCut", err)
	}
}

func TestResetDisarms(t *testing.T) {
	f := newMem(t, small)
	f.CutAfter(2)
	f.Reset()
	for _, s := range script() {
		if err := s.do(f); err != nil {
			t.Fatalf("%v after Reset disarmed the cut: %v", s, err)
		}
	}
	if got := image(t, f); !bytes.Equal(got, reference(len(script()))) {
		t.Fatalf("image: % x", got)
	}
}

// TestCutAgainAfterReset cuts the recovery too: the count starts again
// from the reboot.
func TestCutAgainAfterReset(t *testing.T) {
	f := newMem(t, small)
	f.CutAfter(1)
	if err := f.Program(0, pattern(8, 1)); !errors.Is(err, flash.ErrPowerCut) {
		t.Fatal(err)
	}
	f.Reset()
	f.CutBefore(2)
	if err := f.Program(8, pattern(8, 2)); err != nil {
		t.Fatal(err)
	}
	if err := f.Program(16, pattern(8, 3)); !errors.Is(err, flash.ErrPowerCut) {
		t.Fatal(err)
	}
	f.Reset()
	want := erasedImage(small.Size)
	copy(want, pattern(8, 1))
	copy(want[8:], pattern(8, 2))
	if got := image(t, f); !bytes.Equal(got, want) {
		t.Fatalf("image: % x", got)
	}
}

func TestCutArmPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		arm  func(*flash.Flash)
	}{
		{"operation zero", func(f *flash.Flash) { f.CutBefore(0) }},
		{"operation already counted", func(f *flash.Flash) {
			f.EraseSector(0)
			f.EraseSector(64)
			f.CutAfter(2)
		}},
		{"power already lost", func(f *flash.Flash) {
			f.CutAfter(1)
			f.EraseSector(0)
			f.CutTorn(5, 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newMem(t, small)
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tc.arm(f)
		})
	}
}
