package flash

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// Flash is one NOR flash array. It is safe for concurrent use: each read,
// program and erase is atomic with respect to the others, and a cut falls
// between two of them or inside exactly one.
type Flash struct {
	cfg    Config
	erased []byte // one sector of 0xFF, the source of every erase

	mu     sync.Mutex
	mem    []byte
	file   *os.File // nil for NewMem
	closed bool
	ops    uint64
	cut    cut  // the armed cut; cut.n == 0 when none is armed
	lost   bool // a cut has fired and there was no Reset since
	log    []Op
	// marks is what a direct flash knows of its array without reading the
	// file back, so that a program onto freshly erased bytes costs no
	// read: sector index -> offset in the sector from which every byte is
	// erased. A sector enters when an erase of it completes, moves up as
	// it is programmed, and leaves when it is programmed to its end or an
	// operation leaves it torn; a program that touches a sector not in it,
	// or below the mark, reads the file back. Each entry stays true across
	// Reset, since the array is then as the cut left it. nil on a flash
	// held in memory, whose check costs no I/O.
	marks map[int64]int64
}

// NewMem returns a flash held in memory alone, erased (all 0xFF).
func NewMem(cfg Config) (*Flash, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	f := newFlash(cfg)
	fill(f.mem)
	return f, nil
}

// Open returns a flash backed by the image file at path. A missing file is
// created erased (all 0xFF); an existing one must be exactly cfg.Size bytes
// and is taken as it is, so a flash that a cut left torn comes back torn.
// Every program and erase is written through to the file before it returns;
// Sync makes the file durable. Two Flash values must not share a file.
func Open(path string, cfg Config) (*Flash, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("flash: open %s: %w", path, err)
	}
	f := newFlash(cfg)
	file, err := os.OpenFile(path, os.O_RDWR, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		file, err = create(path, cfg)
		if err != nil {
			return nil, fmt.Errorf("flash: create %s: %w", path, err)
		}
		fill(f.mem)
	case err != nil:
		return nil, fmt.Errorf("flash: open %s: %w", path, err)
	default:
		if err := load(file, f.mem); err != nil {
			file.Close()
			return nil, fmt.Errorf("flash: open %s: %w", path, err)
		}
	}
	f.file = file
	return f, nil
}

// OpenDirect is Open for a flash whose array lives in the file alone: no
// copy of it is kept in memory, so a large flash costs the process nothing
// but the buffers of each operation and a bounded record of the sectors
// it erased, which spares a program onto them reading the file back.
// Mapped is not available on it.
func OpenDirect(path string, cfg Config) (*Flash, error) {
	if err := cfg.validateUpTo(MaxDirectSize); err != nil {
		return nil, fmt.Errorf("flash: open %s: %w", path, err)
	}
	f := &Flash{cfg: cfg, erased: bytes.Repeat([]byte{0xFF}, int(cfg.SectorSize)), marks: map[int64]int64{}}
	file, err := os.OpenFile(path, os.O_RDWR, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if file, err = create(path, cfg); err != nil {
			return nil, fmt.Errorf("flash: create %s: %w", path, err)
		}
	case err != nil:
		return nil, fmt.Errorf("flash: open %s: %w", path, err)
	default:
		st, err := file.Stat()
		if err == nil && st.Size() != cfg.Size {
			err = fmt.Errorf("%w: %d bytes, want %d", ErrWrongSize, st.Size(), cfg.Size)
		}
		if err != nil {
			file.Close()
			return nil, fmt.Errorf("flash: open %s: %w", path, err)
		}
	}
	f.file = file
	return f, nil
}

// bytesAt returns the array's bytes at [off, off+n): a view of memory, or
// a copy read from the file of a direct flash. Callers must not write to it.
func (f *Flash) bytesAt(off, n int64) ([]byte, error) {
	if f.mem != nil {
		return f.mem[off : off+n], nil
	}
	b := make([]byte, n)
	if _, err := f.file.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	return b, nil
}

func newFlash(cfg Config) *Flash {
	return &Flash{
		cfg:    cfg,
		erased: bytes.Repeat([]byte{0xFF}, int(cfg.SectorSize)),
		mem:    make([]byte, cfg.Size),
	}
}

// create makes an erased image. A failed creation removes the file, so that
// a half-written image is never mistaken for a device later.
func create(path string, cfg Config) (*os.File, error) {
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	sector := bytes.Repeat([]byte{0xFF}, int(cfg.SectorSize))
	for off := int64(0); off < cfg.Size; off += cfg.SectorSize {
		if _, err = file.WriteAt(sector, off); err != nil {
			break
		}
	}
	if err == nil {
		err = file.Sync()
	}
	if err != nil {
		file.Close()
		os.Remove(path)
		return nil, err
	}
	return file, nil
}

func load(file *os.File, mem []byte) error {
	st, err := file.Stat()
	if err != nil {
		return err
	}
	if st.Size() != int64(len(mem)) {
		return fmt.Errorf("%w: %d bytes, want %d", ErrWrongSize, st.Size(), len(mem))
	}
	_, err = file.ReadAt(mem, 0)
	return err
}

// Config returns the geometry the flash was opened with.
func (f *Flash) Config() Config { return f.cfg }

// Read copies len(p) bytes at off into p. Reads are not counted and cannot
// be cut, but fail with ErrPowerCut while the power is lost.
func (f *Flash) Read(off int64, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(off, int64(len(p))); err != nil {
		return fmt.Errorf("flash: read %#x+%d: %w", off, len(p), err)
	}
	if f.mem == nil {
		if _, err := f.file.ReadAt(p, off); err != nil {
			return fmt.Errorf("flash: read %#x+%d: %w", off, len(p), err)
		}
		return nil
	}
	copy(p, f.mem[off:])
	return nil
}

// Mapped returns the n bytes at off as the CPU sees memory-mapped
// (execute-in-place) flash: no copy. The slice aliases the array: the
// caller must not write to it, and it shows later programs and erases, so
// it is for reading while nothing else changes the flash.
func (f *Flash) Mapped(off, n int64) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(off, n); err != nil {
		return nil, fmt.Errorf("flash: map %#x+%d: %w", off, n, err)
	}
	if f.mem == nil {
		return nil, fmt.Errorf("flash: map %#x+%d: %w", off, n, ErrNotMapped)
	}
	return f.mem[off : off+n : off+n], nil
}

// Program writes data at off. off and len(data) must be multiples of
// Config.WriteAlign and every byte written must be erased (0xFF): the model
// refuses to AND new data into old, as a driver must never rely on it.
// A refused program is not counted and changes nothing. An empty program is
// not counted either: it never reaches the array.
func (f *Flash) Program(off int64, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := int64(len(data))
	if err := f.check(off, n); err != nil {
		return fmt.Errorf("flash: program %#x+%d: %w", off, n, err)
	}
	if off%f.cfg.WriteAlign != 0 || n%f.cfg.WriteAlign != 0 {
		return fmt.Errorf("flash: program %#x+%d: %w: write alignment is %d",
			off, n, ErrAlignment, f.cfg.WriteAlign)
	}
	if !f.knownErased(off, n) {
		cur, err := f.bytesAt(off, n)
		if err != nil {
			return fmt.Errorf("flash: program %#x+%d: %w", off, n, err)
		}
		if i := f.firstUnerased(cur); i >= 0 {
			return fmt.Errorf("flash: program %#x+%d: %w: byte at %#x is %#02x",
				off, n, ErrNotErased, off+int64(i), cur[i])
		}
	}
	if n == 0 {
		return nil
	}
	if err := f.operate(OpProgram, off, data); err != nil {
		return fmt.Errorf("flash: program %#x+%d: %w", off, n, err)
	}
	return nil
}

// EraseSector sets the sector that starts at off to 0xFF. off must be a
// multiple of Config.SectorSize.
func (f *Flash) EraseSector(off int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(off, f.cfg.SectorSize); err != nil {
		return fmt.Errorf("flash: erase %#x: %w", off, err)
	}
	if off%f.cfg.SectorSize != 0 {
		return fmt.Errorf("flash: erase %#x: %w: sector size is %d", off, ErrAlignment, f.cfg.SectorSize)
	}
	if err := f.operate(OpErase, off, f.erased); err != nil {
		return fmt.Errorf("flash: erase %#x: %w", off, err)
	}
	return nil
}

// Sync flushes the image file to stable storage; on a memory flash it does
// nothing. It works while the power is lost: the file then holds what the
// cut left.
func (f *Flash) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("flash: sync: %w", ErrClosed)
	}
	if f.file == nil {
		return nil
	}
	if err := f.file.Sync(); err != nil {
		return fmt.Errorf("flash: sync: %w", err)
	}
	return nil
}

// Close closes the image file. Every later call fails with ErrClosed.
func (f *Flash) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("flash: close: %w", ErrClosed)
	}
	f.closed = true
	if f.file == nil {
		return nil
	}
	if err := f.file.Close(); err != nil {
		return fmt.Errorf("flash: close: %w", err)
	}
	return nil
}

// check is the part of every access's validation that does not depend on
// its kind: the device is there, powered, and [off, off+n) is inside it.
func (f *Flash) check(off, n int64) error {
	switch {
	case f.closed:
		return ErrClosed
	case f.lost:
		return ErrPowerCut
	case off < 0 || n < 0 || off > f.cfg.Size || n > f.cfg.Size-off:
		return fmt.Errorf("%w: flash size is %#x", ErrOutOfRange, f.cfg.Size)
	}
	return nil
}

func fill(b []byte) {
	for i := range b {
		b[i] = 0xFF
	}
}

// firstUnerased returns the index of the first byte of b that is not 0xFF,
// or -1. It compares a sector at a time: this check is most of the cost of
// a program.
func (f *Flash) firstUnerased(b []byte) int {
	for start := 0; start < len(b); start += len(f.erased) {
		chunk := b[start:min(start+len(f.erased), len(b))]
		if bytes.Equal(chunk, f.erased[:len(chunk)]) {
			continue
		}
		for i, c := range chunk {
			if c != 0xFF {
				return start + i
			}
		}
	}
	return -1
}

// knownErased reports whether marks vouch that every byte of [off, off+n)
// is erased.
func (f *Flash) knownErased(off, n int64) bool {
	if f.marks == nil {
		return false
	}
	ss := f.cfg.SectorSize
	for s := off / ss; s*ss < off+n; s++ {
		m, ok := f.marks[s]
		if !ok || max(off-s*ss, 0) < m {
			return false
		}
	}
	return true
}

// note updates marks after an operation on [off, off+n); whole is false
// when it did not complete (a torn erase leaves its sector undefined).
func (f *Flash) note(kind OpKind, off, n int64, whole bool) {
	if f.marks == nil {
		return
	}
	ss := f.cfg.SectorSize
	if kind == OpErase {
		s := off / ss
		_, ok := f.marks[s]
		switch {
		case !whole:
			delete(f.marks, s)
		case ok || len(f.marks) < maxMarks:
			f.marks[s] = 0
		}
		return
	}
	// Whatever became of a program, the bytes past its end are as they
	// were: moving the mark to its end is true even for a torn one.
	for s := off / ss; s*ss < off+n; s++ {
		m, ok := f.marks[s]
		switch end := off + n - s*ss; {
		case !ok:
		case end >= ss:
			delete(f.marks, s)
		case end > m:
			f.marks[s] = end
		}
	}
}

// write stores b at off, in the file first: if the file write fails the
// memory image keeps the old bytes and the error says the file range is
// undefined.
func (f *Flash) write(off int64, b []byte) error {
	if f.file != nil {
		if _, err := f.file.WriteAt(b, off); err != nil {
			return fmt.Errorf("write image: %w", err)
		}
	}
	if f.mem != nil {
		copy(f.mem[off:], b)
	}
	return nil
}
