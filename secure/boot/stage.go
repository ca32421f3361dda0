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
	var comps []Component
	for _, s := range set {
		w, err := d.OpenStaging(s.Component, len(s.Image))
		if err != nil {
			return fmt.Errorf("stage %s: %w", s.Component, err)
		}
		if _, err := w.Write(s.Image); err != nil {
			return fmt.Errorf("stage %s: %w", s.Component, err)
		}
		if err := w.Close(s.Envelope); err != nil {
			return fmt.Errorf("stage %s: %w", s.Component, err)
		}
		comps = append(comps, s.Component)
	}
	return d.Commit(ctx, comps)
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
