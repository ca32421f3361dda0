package fwutest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/teeup/teeup/secure/boot"
)

// Errors of the fake hardware.
var (
	// ErrFlash: a flash operation out of range, misaligned, or onto
	// bytes that are not erased (NOR programs only erased bytes).
	ErrFlash = errors.New("fwutest: invalid flash operation")
	// ErrUnseal: a blob this sealer did not seal.
	ErrUnseal = errors.New("fwutest: blob not sealed by this TPM")
	// ErrPoweredOff: an operation through the flash of an earlier
	// power-on, which a reboot ended.
	ErrPoweredOff = errors.New("fwutest: flash of an earlier power-on")
)

// Flash is NOR flash in memory: erase sets a sector to 0xFF, program
// writes aligned bytes that must be erased. It counts its operations. A
// Flash is the view of one power-on: PowerCycle returns the next one's, and
// operations through this one fail from then on (ErrPoweredOff), as a
// reboot stops whatever was writing. Safe for concurrent use.
type Flash struct {
	*chip
	epoch int
}

// chip is the memory that outlives power cycles, and its counts.
type chip struct {
	mu                      sync.Mutex
	data                    []byte
	sector, align           int
	epoch                   int
	Reads, Programs, Erases int
}

// NewFlash makes erased flash for layout l.
func NewFlash(l boot.Layout) *Flash {
	return &Flash{chip: &chip{data: bytes.Repeat([]byte{0xff}, int(l.Size())), sector: l.SectorSize, align: l.WriteAlign}}
}

// PowerCycle ends this power-on's view of the flash and returns the next.
func (f *Flash) PowerCycle() *Flash {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.chip.epoch++
	return &Flash{chip: f.chip, epoch: f.chip.epoch}
}

func (f *Flash) check(off int64, n int) error {
	if f.epoch != f.chip.epoch {
		return ErrPoweredOff
	}
	if off < 0 || n < 0 || off+int64(n) > int64(len(f.data)) {
		return fmt.Errorf("%w: %#x+%d past %d bytes", ErrFlash, off, n, len(f.data))
	}
	return nil
}

// Read implements boot.Flash.
func (f *Flash) Read(off int64, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(off, len(p)); err != nil {
		return err
	}
	f.Reads++
	copy(p, f.data[off:])
	return nil
}

// Program implements boot.Flash.
func (f *Flash) Program(off int64, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(off, len(data)); err != nil {
		return err
	}
	if off%int64(f.align) != 0 || len(data)%f.align != 0 {
		return fmt.Errorf("%w: program %#x+%d, alignment %d", ErrFlash, off, len(data), f.align)
	}
	for i, b := range f.data[off : off+int64(len(data))] {
		if b != 0xff {
			return fmt.Errorf("%w: program onto byte %#x = %#02x", ErrFlash, off+int64(i), b)
		}
	}
	f.Programs++
	copy(f.data[off:], data)
	return nil
}

// EraseSector implements boot.Flash.
func (f *Flash) EraseSector(off int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check(off, f.sector); err != nil {
		return err
	}
	if off%int64(f.sector) != 0 {
		return fmt.Errorf("%w: erase at %#x", ErrFlash, off)
	}
	f.Erases++
	copy(f.data[off:off+int64(f.sector)], bytes.Repeat([]byte{0xff}, f.sector))
	return nil
}

// Counters are the anti-rollback counters, one per component, that only
// go up; Advances records each raise. Safe for concurrent use.
type Counters struct {
	mu       sync.Mutex
	values   map[boot.Component]uint64
	Advances []string
}

// Counter implements boot.Counters.
func (c *Counters) Counter(comp boot.Component) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.values[comp], nil
}

// AdvanceCounterTo implements boot.Counters: it never lowers a counter.
func (c *Counters) AdvanceCounterTo(comp boot.Component, v uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.values == nil {
		c.values = map[boot.Component]uint64{}
	}
	if v > c.values[comp] {
		c.values[comp] = v
		c.Advances = append(c.Advances, fmt.Sprintf("%s=%d", comp, v))
	}
	return nil
}

// PCR records the digests measured boot extends it with.
type PCR struct {
	mu      sync.Mutex
	Extends [][]byte
}

// Extend implements boot.PCR.
func (p *PCR) Extend(digest []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Extends = append(p.Extends, bytes.Clone(digest))
	return nil
}

// Sealer seals secrets to this fake TPM: a blob is a random handle that
// only this sealer unseals. Safe for concurrent use.
type Sealer struct {
	mu      sync.Mutex
	sealed  map[string][]byte
	Unseals int
}

// Seal implements storage.Sealer.
func (s *Sealer) Seal(secret []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	blob := make([]byte, 32)
	if _, err := rand.Read(blob); err != nil {
		return nil, err
	}
	if s.sealed == nil {
		s.sealed = map[string][]byte{}
	}
	s.sealed[string(blob)] = bytes.Clone(secret)
	return blob, nil
}

// Unseal implements storage.Sealer.
func (s *Sealer) Unseal(blob []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	secret, ok := s.sealed[string(blob)]
	if !ok {
		return nil, ErrUnseal
	}
	s.Unseals++
	return bytes.Clone(secret), nil
}

// StoreCounter is the secure storage's monotonic counter.
type StoreCounter struct {
	mu    sync.Mutex
	value uint64
}

// Value implements storage.Counter.
func (c *StoreCounter) Value() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.value, nil
}

// AdvanceTo implements storage.Counter: it never lowers the counter.
func (c *StoreCounter) AdvanceTo(v uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.value = max(c.value, v)
	return nil
}
