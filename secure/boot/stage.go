package boot

import (
	"bytes"
	"context"
	"fmt"
	"io"
)

// Staged is one image of an install set with its SUIT envelope.
type Staged struct {
	Component Component
	Envelope  []byte
	Image     []byte
}

// Stage writes an install set into the secondary slots and commits it:
// the next boot swaps all of it in, or none. Each image is verified as
// given before anything is written, so that a refused set changes no byte
// of flash, and again in its slot before the commit record is written; a
// refused image leaves nothing committed and the primaries untouched.
// Staging while another set is in progress (staged or in trial) is ErrBusy.
func (d *Device) Stage(ctx context.Context, set []Staged) error {
	if err := d.checkSet(ctx, set); err != nil {
		return err
	}
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

// checkSet refuses, before anything is written, an install set that Stage
// could not commit: while another is in progress, or with an image that
// does not verify against its envelope or does not fit its slot.
func (d *Device) checkSet(ctx context.Context, set []Staged) error {
	comps := make([]Component, len(set))
	for i, s := range set {
		comps[i] = s.Component
	}
	if _, _, err := d.idleInstallSet(comps); err != nil {
		return err
	}
	for _, s := range set {
		c := s.Component
		if _, err := encodeSlotHeader(d.layout, s.Envelope, len(s.Image)); err != nil {
			return fmt.Errorf("stage %s: %w", c, err)
		}
		read := func(n int) io.Reader { return bytes.NewReader(s.Image[:n]) }
		if _, err := d.verifyImage(ctx, c, s.Envelope, len(s.Image), read, nil); err != nil {
			return fmt.Errorf("stage %s: %w", c, err)
		}
	}
	return nil
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
