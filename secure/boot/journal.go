package boot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// The journal is two sectors used in turn: an operation (an install set,
// a fallback) starts by erasing the sector the previous operation did not
// use and writing a start record with the next generation there; each
// later record is appended after the flash operation it describes. At boot
// the sector whose first record is a valid start of the highest generation
// holds the state. A record is 16 bytes, one or more write units:
//
//	0 kind  1 component  2 phase  3 step  4..6 sector (BE)
//	6..12 value (BE, 48 bits)  12..16 first 4 bytes of SHA-256(0..12)
//
// A torn record fails its checksum and is skipped; appending continues at
// the next erased unit, so a torn write never blocks the journal.
const recordSize = 16

type recordKind byte

const (
	recStart      recordKind = 1 // value: generation; component: op; phase: mask
	recStep       recordKind = 2 // a swap step done: component, phase, step, sector
	recSwapped    recordKind = 3 // a component's swap done: component, phase
	recTrial      recordKind = 4 // value: trial boot attempt number
	recConfirming recordKind = 5 // counters are being advanced
	recRevert     recordKind = 6 // revert started
	recDone       recordKind = 7 // value: outcome
)

// Operations a start record begins.
type opKind byte

const (
	opInstall  opKind = 1
	opFallback opKind = 2
)

// Swap phases: the install swap and the revert swap are the same
// operation run twice; the phase keeps their records apart.
const (
	phaseInstall = 1
	phaseRevert  = 2
)

// Outcome is how an operation ended.
type Outcome uint64

// The outcomes: none yet, confirmed, reverted.
const (
	OutcomeNone Outcome = iota
	OutcomeConfirmed
	OutcomeReverted
	OutcomeRefused
	OutcomeFellBack
)

// MarshalText names the outcome in JSON.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an outcome name.
func (o *Outcome) UnmarshalText(b []byte) error {
	for x := OutcomeNone; x <= OutcomeFellBack; x++ {
		if x.String() == string(b) {
			*o = x
			return nil
		}
	}
	return fmt.Errorf("boot: unknown outcome %q", b)
}

func (o Outcome) String() string {
	return [...]string{"none", "confirmed", "reverted", "refused", "fell back"}[min(int(o), 4)]
}

type record struct {
	kind      recordKind
	component byte
	phase     byte
	step      byte
	sector    uint16
	value     uint64
}

func (r record) encode() []byte {
	b := make([]byte, recordSize)
	b[0], b[1], b[2], b[3] = byte(r.kind), r.component, r.phase, r.step
	binary.BigEndian.PutUint16(b[4:], r.sector)
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], r.value)
	copy(b[6:12], v[2:])
	sum := sha256.Sum256(b[:12])
	copy(b[12:], sum[:4])
	return b
}

func decodeRecord(b []byte) (record, bool) {
	sum := sha256.Sum256(b[:12])
	if !bytes.Equal(sum[:4], b[12:16]) || b[0] == 0 || b[0] == 0xff {
		return record{}, false
	}
	var v [8]byte
	copy(v[2:], b[6:12])
	return record{kind: recordKind(b[0]), component: b[1], phase: b[2], step: b[3],
		sector: binary.BigEndian.Uint16(b[4:]), value: binary.BigEndian.Uint64(v[:])}, true
}

var errJournalFull = errors.New("boot: journal sector full")

// journal is the replayed state of the newest operation.
type journal struct {
	gen    uint64
	active int   // sector index 0 or 1 holding gen; -1 when none
	next   int64 // offset of the next free record in the active sector

	op      opKind
	mask    byte // components in the operation, bit per Component
	steps   map[stepKey]record
	swapped map[stepKey]bool
	trials  uint64
	confirm bool
	revert  bool
	done    bool
	outcome Outcome
}

type stepKey struct{ phase, component byte }

// idle reports whether no operation is in progress.
func (j *journal) idle() bool { return j.active < 0 || j.done }

func (j *journal) has(c Component) bool { return j.mask&(1<<c) != 0 }

func (d *Device) readJournal() (*journal, error) {
	best := &journal{active: -1}
	for n := 0; n < 2; n++ {
		j, err := d.readJournalSector(n)
		if err != nil {
			return nil, err
		}
		if j != nil && (best.active < 0 || j.gen > best.gen) {
			best = j
		}
	}
	return best, nil
}

// journalReadBlock is how much of a journal sector is read at a time: the
// records end at the first erased one, usually in the first block, and a
// large sector need not be read whole on every look at the journal.
const journalReadBlock = 4096

func (d *Device) readJournalSector(n int) (*journal, error) {
	base := d.layout.journalOff(n)
	size := d.layout.SectorSize
	buf := make([]byte, min(journalReadBlock, size))
	if err := d.flash.Read(base, buf[:recordSize]); err != nil {
		return nil, err
	}
	first, ok := decodeRecord(buf[:recordSize])
	if !ok || first.kind != recStart {
		return nil, nil
	}
	j := &journal{gen: first.value, active: n, op: opKind(first.component), mask: first.phase,
		steps: map[stepKey]record{}, swapped: map[stepKey]bool{}, next: base + int64(size)}
	erased := bytes.Repeat([]byte{0xff}, recordSize)
	for block := 0; block+recordSize <= size; block += len(buf) {
		chunk := buf[:min(len(buf), size-block)]
		if err := d.flash.Read(base+int64(block), chunk); err != nil {
			return nil, err
		}
		for off := 0; off+recordSize <= len(chunk); off += recordSize {
			if block+off == 0 {
				continue // the start record
			}
			unit := chunk[off : off+recordSize]
			if bytes.Equal(unit, erased) {
				j.next = base + int64(block+off)
				return j, nil
			}
			r, ok := decodeRecord(unit)
			if !ok {
				continue // torn: skipped
			}
			switch r.kind {
			case recStep:
				j.steps[stepKey{r.phase, r.component}] = r
			case recSwapped:
				j.swapped[stepKey{r.phase, r.component}] = true
			case recTrial:
				j.trials = max(j.trials, r.value)
			case recConfirming:
				j.confirm = true
			case recRevert:
				j.revert = true
			case recDone:
				j.done, j.outcome = true, Outcome(r.value)
			}
		}
	}
	return j, nil
}

// append writes a record to the active sector.
func (d *Device) append(j *journal, r record) error {
	if j.active < 0 {
		return errors.New("boot: no journal operation to append to")
	}
	if j.next+recordSize > d.layout.journalOff(j.active)+int64(d.layout.SectorSize) {
		return errJournalFull
	}
	if err := d.flash.Program(j.next, r.encode()); err != nil {
		return err
	}
	j.next += recordSize
	return nil
}

// begin starts a new operation in the other journal sector.
func (d *Device) begin(prev *journal, op opKind, mask byte) (*journal, error) {
	n := 0
	if prev.active == 0 {
		n = 1
	}
	base := d.layout.journalOff(n)
	if err := d.flash.EraseSector(base); err != nil {
		return nil, err
	}
	gen := prev.gen + 1
	start := record{kind: recStart, component: byte(op), phase: mask, value: gen}
	if err := d.flash.Program(base, start.encode()); err != nil {
		return nil, err
	}
	return &journal{gen: gen, active: n, next: base + recordSize, op: op, mask: mask,
		steps: map[stepKey]record{}, swapped: map[stepKey]bool{}}, nil
}

func (j *journal) String() string {
	if j.idle() {
		return fmt.Sprintf("idle (generation %d, last outcome %s)", j.gen, j.outcome)
	}
	return fmt.Sprintf("operation %d in progress (generation %d, components %02b)", j.op, j.gen, j.mask)
}
