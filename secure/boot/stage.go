package boot

import (
	"context"
	"fmt"
)

// Staged is one image of an install set with its SUIT envelope.
type Staged struct {
	Component Component
	Envelope  []byte
	Image     []byte
}

// Stage writes an install set into the secondary slots and commits it:
// the next boot swaps all of it in, or none. Each image is verified in its
// slot before the commit record is written; a refused image leaves
// nothing committed and the primaries untouched. Staging while another set
// is in progress (staged or in trial) is ErrBusy.
func (d *Device) Stage(ctx context.Context, set []Staged) error {
	j, err := d.readJournal()
	if err != nil {
		return err
	}
	if !j.idle() {
		return ErrBusy
	}
	var mask byte
	for _, s := range set {
		if s.Component < 0 || s.Component >= numComponents || mask&(1<<s.Component) != 0 {
			return fmt.Errorf("boot: install set names %s twice or not at all", s.Component)
		}
		mask |= 1 << s.Component
	}
	if mask == 0 {
		return fmt.Errorf("boot: empty install set")
	}
	for _, s := range set {
		if err := d.writeSlot(s.Component, true, s.Envelope, s.Image); err != nil {
			return fmt.Errorf("stage %s: %w", s.Component, err)
		}
		if _, err := d.verifySlot(ctx, s.Component, true); err != nil {
			return fmt.Errorf("stage %s: %w", s.Component, err)
		}
	}
	_, err = d.begin(j, opInstall, mask)
	return err
}

// Provision writes factory images straight into the primary slots of a
// blank device. It verifies them and sets the counters to their sequence
// numbers. Only for manufacturing: it bypasses the install-set journal.
func (d *Device) Provision(ctx context.Context, set []Staged) error {
	for _, s := range set {
		if err := d.writeSlot(s.Component, false, s.Envelope, s.Image); err != nil {
			return fmt.Errorf("provision %s: %w", s.Component, err)
		}
		img, err := d.verifySlot(ctx, s.Component, false)
		if err != nil {
			return fmt.Errorf("provision %s: %w", s.Component, err)
		}
		if err := d.counters.AdvanceCounterTo(s.Component, img.SequenceNumber); err != nil {
			return err
		}
	}
	return nil
}
