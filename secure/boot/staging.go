package boot

import (
	"context"
	"errors"
	"fmt"
)

// ErrStagingOrder is a write to a staging slot that does not continue
// where the last one ended, or goes past the slot.
var ErrStagingOrder = errors.New("boot: staging write out of order or past the slot")

// SlotWriter streams an image into a component's secondary slot, so that
// an image of any size stages in bounded memory. The slot's header is
// written last, by Close: until then the slot reads as empty, so a power
// cut in the middle leaves nothing that could be committed.
type SlotWriter struct {
	d       *Device
	c       Component
	size    int    // the image's declared size
	written int    // image bytes accepted
	pending []byte // bytes not yet programmed: less than a write unit
	closed  bool
}

// OpenStaging erases the secondary slot of c for a new image of size
// bytes: the header sector and the sectors the image needs. It is refused
// while an install set is staged or in trial (ErrBusy).
func (d *Device) OpenStaging(c Component, size int) (*SlotWriter, error) {
	j, err := d.readJournal()
	if err != nil {
		return nil, err
	}
	if !j.idle() {
		return nil, ErrBusy
	}
	if c < 0 || c >= numComponents {
		return nil, fmt.Errorf("boot: no component %d", int(c))
	}
	if size < 0 || size > d.layout.MaxImage() {
		return nil, fmt.Errorf("%w: image of %d bytes, the slot holds %d", ErrStagingOrder, size, d.layout.MaxImage())
	}
	base := d.layout.slotOff(c, true)
	sectors := 1 + (size+d.layout.SectorSize-1)/d.layout.SectorSize
	for i := 0; i < sectors; i++ {
		if err := d.flash.EraseSector(base + int64(i*d.layout.SectorSize)); err != nil {
			return nil, err
		}
	}
	return &SlotWriter{d: d, c: c, size: size}, nil
}

// Written is the number of image bytes accepted so far.
func (w *SlotWriter) Written() int { return w.written }

// Write appends p to the image.
func (w *SlotWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrStagingOrder
	}
	if w.written+len(p) > w.size {
		return 0, fmt.Errorf("%w: image exceeds its declared %d bytes", ErrStagingOrder, w.size)
	}
	align := w.d.layout.WriteAlign
	base := w.d.layout.slotOff(w.c, true) + int64(w.d.layout.SectorSize)
	start := w.written - len(w.pending) // image offset of the first unprogrammed byte
	data := p
	if len(w.pending) > 0 {
		data = append(w.pending, p...)
	}
	n := len(data) / align * align
	if n > 0 {
		if err := w.d.flash.Program(base+int64(start), data[:n]); err != nil {
			return 0, err
		}
	}
	w.pending = append(w.pending[:0:0], data[n:]...)
	w.written += len(p)
	return len(p), nil
}

// Close pads and programs the last partial unit, then writes the header
// with the envelope, which makes the slot hold an image.
func (w *SlotWriter) Close(envelope []byte) error {
	if w.closed {
		return ErrStagingOrder
	}
	w.closed = true
	d := w.d
	if len(w.pending) > 0 {
		unit := make([]byte, d.layout.WriteAlign)
		for i := range unit {
			unit[i] = 0xff
		}
		copy(unit, w.pending)
		off := d.layout.slotOff(w.c, true) + int64(d.layout.SectorSize) + int64(w.written-len(w.pending))
		if err := d.flash.Program(off, unit); err != nil {
			return err
		}
	}
	header, err := encodeSlotHeader(d.layout, envelope, w.written)
	if err != nil {
		return err
	}
	return d.flash.Program(d.layout.slotOff(w.c, true), header)
}

// Commit verifies the images in the secondary slots of comps and commits
// them as one install set: the next boot swaps all of them in, or none.
func (d *Device) Commit(ctx context.Context, comps []Component) error {
	return d.commit(ctx, comps, nil)
}

// CommitStreamed is Commit for images whose SHA-256 the caller computed
// over the very bytes it wrote while streaming them in (the secure
// world's update service): image-match takes that sum instead of reading
// the slot again. Signatures, authorization and counters are checked as
// in Commit, and the bootloader hashes every image again before it swaps.
func (d *Device) CommitStreamed(ctx context.Context, comps []Component, sha256s map[Component][]byte) error {
	return d.commit(ctx, comps, sha256s)
}

func (d *Device) commit(ctx context.Context, comps []Component, sha256s map[Component][]byte) error {
	j, err := d.readJournal()
	if err != nil {
		return err
	}
	if !j.idle() {
		return ErrBusy
	}
	var mask byte
	for _, c := range comps {
		if c < 0 || c >= numComponents || mask&(1<<c) != 0 {
			return fmt.Errorf("boot: install set names %s twice or not at all", c)
		}
		mask |= 1 << c
		if _, err := d.verifySlotWith(ctx, c, true, sha256s[c]); err != nil {
			return fmt.Errorf("stage %s: %w", c, err)
		}
	}
	if mask == 0 {
		return errors.New("boot: empty install set")
	}
	_, err = d.begin(j, opInstall, mask)
	return err
}

// VerifyStaged verifies the image in the secondary slot of c, as Commit
// will, without committing.
func (d *Device) VerifyStaged(ctx context.Context, c Component) (*Image, error) {
	return d.verifySlot(ctx, c, true)
}
