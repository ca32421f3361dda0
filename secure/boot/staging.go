package boot

import (
	"bytes"
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
//
// OpenStaging erases only the header sector; each sector of the image is
// erased by the write that first reaches it, so that a streamed image
// pays for its erases chunk by chunk rather than all before its first
// byte arrives. The sectors are erased in order all the same, and an image
// written at once makes the same flash operations in the same order as
// if they had all been erased first.
type SlotWriter struct {
	d       *Device
	c       Component
	size    int    // the image's declared size
	written int    // image bytes accepted
	pending []byte // bytes not yet programmed: less than a write unit
	erased  int    // image sectors erased
	closed  bool
}

// OpenStaging erases the header sector of the secondary slot of c, which
// makes the slot read as empty, for a new image of size bytes. It is
// refused while an install set is staged or in trial (ErrBusy).
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
	if err := d.flash.EraseSector(d.layout.slotOff(c, true)); err != nil {
		return nil, err
	}
	return &SlotWriter{d: d, c: c, size: size}, nil
}

// DiscardStaging erases the header sector of the secondary slot of c,
// which makes the slot read as empty: whatever an abandoned update wrote
// there can no longer be committed. It is refused while an install set is
// staged or in trial (ErrBusy), whose images the secondary slots hold.
func (d *Device) DiscardStaging(c Component) error {
	j, err := d.readJournal()
	if err != nil {
		return err
	}
	if !j.idle() {
		return ErrBusy
	}
	if c < 0 || c >= numComponents {
		return fmt.Errorf("boot: no component %d", int(c))
	}
	return d.flash.EraseSector(d.layout.slotOff(c, true))
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
	start := w.written - len(w.pending) // image offset of the first unprogrammed byte
	data := p
	if len(w.pending) > 0 {
		data = append(w.pending, p...)
	}
	n := len(data) / w.d.layout.WriteAlign * w.d.layout.WriteAlign
	if err := w.program(w.written+len(p), start, data[:n]); err != nil {
		return 0, err
	}
	w.pending = append(w.pending[:0:0], data[n:]...)
	w.written += len(p)
	return len(p), nil
}

// program erases the image's sectors up to the one that holds image byte
// through-1, then programs data at image offset at.
func (w *SlotWriter) program(through, at int, data []byte) error {
	ss := w.d.layout.SectorSize
	image := w.d.layout.slotOff(w.c, true) + int64(ss)
	for ; w.erased < (through+ss-1)/ss; w.erased++ {
		if err := w.d.flash.EraseSector(image + int64(w.erased*ss)); err != nil {
			return err
		}
	}
	if len(data) == 0 {
		return nil
	}
	return w.d.flash.Program(image+int64(at), data)
}

// Close erases what remains of the image's sectors, pads and programs the
// last partial unit, then writes the header with the envelope, which makes
// the slot hold an image.
func (w *SlotWriter) Close(envelope []byte) error {
	if w.closed {
		return ErrStagingOrder
	}
	w.closed = true
	d := w.d
	var unit []byte
	if len(w.pending) > 0 {
		unit = bytes.Repeat([]byte{0xff}, d.layout.WriteAlign)
		copy(unit, w.pending)
	}
	// A short image leaves the sectors of its declared size erased, as a
	// whole one would.
	if err := w.program(w.size, w.written-len(w.pending), unit); err != nil {
		return err
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
	j, mask, err := d.idleInstallSet(comps)
	if err != nil {
		return err
	}
	for _, c := range comps {
		if _, err := d.verifySlotWith(ctx, c, true, sha256s[c]); err != nil {
			return fmt.Errorf("stage %s: %w", c, err)
		}
	}
	// Accept will raise the counters to the set's sequence numbers, after
	// the trial. Whatever could keep it from doing so must refuse the set
	// now, before anything is committed: raising each counter to the value
	// it holds runs the same TPM path (on a device whose anti-rollback
	// value still sits in an older NV counter, it creates the rollback
	// index) and changes no value. Any uint64 above it is then one write.
	for _, c := range comps {
		v, err := d.counters.Counter(c)
		if err == nil {
			err = d.counters.AdvanceCounterTo(c, v)
		}
		if err != nil {
			return fmt.Errorf("stage %s: the anti-rollback counter cannot be raised: %w", c, err)
		}
	}
	_, err = d.begin(j, opInstall, mask)
	return err
}

// VerifyStaged verifies the image in the secondary slot of c, as Commit
// will, without committing.
func (d *Device) VerifyStaged(ctx context.Context, c Component) (*Image, error) {
	return d.verifySlot(ctx, c, true)
}

// idleInstallSet reads the journal and refuses an install set of comps
// while another is in progress (ErrBusy), or one that is empty or names a
// component twice or not at all; else it returns the journal and the
// set's component mask.
func (d *Device) idleInstallSet(comps []Component) (*journal, byte, error) {
	j, err := d.readJournal()
	if err != nil {
		return nil, 0, err
	}
	if !j.idle() {
		return nil, 0, ErrBusy
	}
	var mask byte
	for _, c := range comps {
		if c < 0 || c >= numComponents || mask&(1<<c) != 0 {
			return nil, 0, fmt.Errorf("boot: install set names %s twice or not at all", c)
		}
		mask |= 1 << c
	}
	if mask == 0 {
		return nil, 0, errors.New("boot: empty install set")
	}
	return j, mask, nil
}
