package flash

import (
	"fmt"
	"math/rand/v2"
)

type cutMode uint8

const (
	cutBefore cutMode = iota + 1
	cutAfter
	cutTorn
)

type cut struct {
	n    uint64 // 1-based operation number; 0 when no cut is armed
	mode cutMode
	seed uint64
}

// tornStream is the PCG stream of torn content, fixed so that a seed alone
// names a tear: CutTorn(n, s) tears the same operation the same way on
// every run and every machine.
const tornStream = 0x666c617368 // "flash"

// CutBefore arms a cut at operation n (1-based, counted as Ops counts): the
// power fails as operation n starts, so it changes nothing. Operation n
// returns ErrPowerCut, and so does everything after it until Reset.
// Arming replaces any cut already armed. It panics if n is not after the
// operations already counted, or if the power is already lost: such a cut
// could never fire, which is a bug in the test.
func (f *Flash) CutBefore(n uint64) { f.arm(cut{n: n, mode: cutBefore}) }

// CutAfter arms a cut at operation n: operation n is applied in full and
// then the power fails, so it returns ErrPowerCut all the same. Otherwise
// as CutBefore.
func (f *Flash) CutAfter(n uint64) { f.arm(cut{n: n, mode: cutAfter}) }

// CutTorn arms a cut in the middle of operation n, torn as seed decides.
// A torn program writes a prefix of its write units in full, then one unit
// in which only some of the bits to be cleared are cleared, and leaves the
// rest of its units as they were. A torn erase sets a prefix of the sector
// to 0xFF and leaves the rest either as it was or, as often, filled with
// garbage. Nothing outside the operation's range changes. The same seed
// tears the same operation the same way. Otherwise as CutBefore.
func (f *Flash) CutTorn(n, seed uint64) { f.arm(cut{n: n, mode: cutTorn, seed: seed}) }

func (f *Flash) arm(c cut) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lost {
		panic("flash: cut armed while the power is lost; Reset first")
	}
	if c.n <= f.ops {
		panic(fmt.Sprintf("flash: cut armed at operation %d, but %d operations are already counted", c.n, f.ops))
	}
	f.cut = c
}

// Reset models the reboot after a cut (or any reboot): the power is back,
// the array is exactly as it was left, any cut still armed is disarmed, and
// Ops and Log start again from zero, as they do for a reopened image.
func (f *Flash) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lost = false
	f.cut = cut{}
	f.ops = 0
	f.log = nil
}

// Ops returns the number of programs and erases counted since Open, NewMem
// or the last Reset: every one that passed validation, the one a cut fired
// at included. After a cut at operation n, Ops is n.
func (f *Flash) Ops() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops
}

// PowerLost reports whether a cut has fired since the last Reset. A test
// that arms a cut at n uses it to tell whether the code under test reached
// operation n at all.
func (f *Flash) PowerLost() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lost
}

// operate counts one validated operation that would write b at off, and
// applies it as the armed cut says. It returns ErrPowerCut when the cut
// fires here.
func (f *Flash) operate(kind OpKind, off int64, b []byte) error {
	f.ops++
	outcome := Applied
	if f.cut.n == f.ops {
		c := f.cut
		f.cut = cut{}
		f.lost = true
		switch c.mode {
		case cutBefore:
			outcome = Dropped
		case cutAfter:
			outcome = AppliedThenCut
		case cutTorn:
			outcome = Torn
			b = f.tear(kind, off, b, c.seed)
		}
	}
	if f.cfg.Record {
		f.log = append(f.log, Op{Seq: f.ops, Kind: kind, Offset: off, Len: int64(len(b)), Outcome: outcome})
	}
	var err error
	if outcome != Dropped {
		err = f.write(off, b)
	}
	f.note(kind, off, int64(len(b)), (outcome == Applied || outcome == AppliedThenCut) && err == nil)
	if f.lost {
		if err != nil {
			return fmt.Errorf("%w (%w)", ErrPowerCut, err)
		}
		return ErrPowerCut
	}
	return err
}

// tear returns what a torn operation leaves at off instead of b.
func (f *Flash) tear(kind OpKind, off int64, b []byte, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, tornStream))
	old, err := f.bytesAt(off, int64(len(b)))
	if err != nil {
		old = b // the file cannot be read: tear as if over the new data
	}
	out := make([]byte, len(b))
	copy(out, old)
	switch kind {
	case OpProgram:
		unit := int(f.cfg.WriteAlign)
		at := rng.IntN(len(b)/unit) * unit
		copy(out[:at], b[:at])
		// Programming only clears bits: a bit of the torn unit ends up
		// cleared only if the data clears it, and then only by chance.
		for i := at; i < at+unit; i++ {
			out[i] = old[i] & (b[i] | byte(rng.Uint32()))
		}
	case OpErase:
		at := rng.IntN(len(b))
		copy(out[:at], b[:at])
		if rng.IntN(2) == 1 {
			for i := at; i < len(out); i++ {
				out[i] = byte(rng.Uint32())
			}
		}
	}
	return out
}
