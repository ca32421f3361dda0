package boot

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Result is what a boot hands to the secure world.
type Result struct {
	// Images are the verified images booted, secure first.
	Images []*Image `json:"images"`
	// Trial is set when the images boot in trial and must be accepted.
	Trial bool `json:"trial"`
	// Outcome of an operation that this boot finished, if any.
	Outcome Outcome `json:"outcome"`
	// Events is the measured-boot event log; it replays to the PCR. It is
	// handed to the secure world in memory, as a TCG event log is, and kept
	// by the bootloader for the power-on (Device.EventLog); it is not
	// written out with the rest of the result.
	Events EventLog `json:"-"`
	// Refused says why a staged install set or an image was refused, if
	// this boot refused one.
	Refused error `json:"-"`
}

// Boot runs the bootloader: it finishes or reverts any operation the
// journal shows in progress, verifies both primary images, measures them
// and returns what to boot. A hardware error (a power cut) is returned as
// is: the next Boot resumes from the journal. ErrNoBootableImage means
// nothing verified, and nothing must run.
func (d *Device) Boot(ctx context.Context) (*Result, error) {
	j, err := d.readJournal()
	if err != nil {
		return nil, err
	}
	d.running, d.events = nil, nil
	res := &Result{}
	if !j.idle() {
		if err := d.resume(ctx, j, res); err != nil {
			return nil, err
		}
	}
	if !res.Trial {
		if err := d.verifyOrFallBack(ctx, res); err != nil {
			return nil, err
		}
	}
	if res.Events, err = d.measure(res.Images); err != nil {
		return nil, err
	}
	d.running, d.events = res.Images, res.Events
	return res, nil
}

// EventLog returns the measured-boot event log of the last Boot, which
// replays to the PCR until the next power cycle, or nil before a
// successful Boot. Like the PCR it describes, it lives for the power-on:
// the secure world reads it from here (to attest), nothing keeps it
// across a reset.
func (d *Device) EventLog() EventLog { return slices.Clone(d.events) }

// Running returns the images the last Boot verified and booted, secure
// first, or nil before a successful Boot. They run until the next Boot,
// whatever is staged, accepted or rejected meanwhile.
func (d *Device) Running() []*Image { return d.running }

// resume carries an operation forward. On return either res holds a
// verified trial pair, or the operation is done and the idle path boots.
func (d *Device) resume(ctx context.Context, j *journal, res *Result) error {
	if j.op == opFallback {
		for _, c := range Components {
			if j.has(c) {
				if err := d.swap(j, phaseInstall, c); err != nil {
					return err
				}
			}
		}
		res.Outcome = OutcomeFellBack
		return d.append(j, record{kind: recDone, value: uint64(OutcomeFellBack)})
	}
	switch {
	case j.confirm:
		return d.finishConfirm(ctx, j, res)
	case j.revert:
		return d.revert(ctx, j, res)
	}
	if !d.swapStarted(j) {
		// Verify what was staged before touching the primaries: a refused
		// set leaves the old pair exactly as it was.
		for _, c := range Components {
			if !j.has(c) {
				continue
			}
			if _, err := d.verifySlot(ctx, c, true); err != nil {
				if !isRejection(err) {
					return err
				}
				res.Refused, res.Outcome = fmt.Errorf("staged %s image: %w", c, err), OutcomeRefused
				return d.append(j, record{kind: recDone, value: uint64(OutcomeRefused)})
			}
		}
	}
	for _, c := range Components {
		if j.has(c) {
			if err := d.swap(j, phaseInstall, c); err != nil {
				return err
			}
		}
	}
	if j.trials >= uint64(d.cfg.MaxTrialBoots) {
		return d.startRevert(ctx, j, res, nil)
	}
	images, err := d.verifyPrimaries(ctx)
	if err != nil {
		if !isRejection(err) {
			return err
		}
		return d.startRevert(ctx, j, res, err)
	}
	if err := d.append(j, record{kind: recTrial, value: j.trials + 1}); err != nil {
		return err
	}
	j.trials++
	res.Images, res.Trial = images, true
	return nil
}

func (d *Device) swapStarted(j *journal) bool {
	for k := range j.steps {
		if k.phase == phaseInstall {
			return true
		}
	}
	return len(j.swapped) > 0
}

func (d *Device) startRevert(ctx context.Context, j *journal, res *Result, why error) error {
	if why != nil {
		res.Refused = fmt.Errorf("trial images: %w", why)
	}
	if err := d.append(j, record{kind: recRevert}); err != nil {
		return err
	}
	j.revert = true
	return d.revert(ctx, j, res)
}

// revert swaps the set's components back, restoring the old pair.
func (d *Device) revert(_ context.Context, j *journal, res *Result) error {
	for _, c := range Components {
		if !j.has(c) {
			continue
		}
		// A component whose install swap never finished is completed first,
		// so that the revert swap starts from a whole exchange.
		if err := d.swap(j, phaseInstall, c); err != nil {
			return err
		}
		if err := d.swap(j, phaseRevert, c); err != nil {
			return err
		}
	}
	res.Outcome = OutcomeReverted
	return d.append(j, record{kind: recDone, value: uint64(OutcomeReverted)})
}

func (d *Device) verifyPrimaries(ctx context.Context) ([]*Image, error) {
	images := make([]*Image, 0, len(Components))
	for _, c := range Components {
		img, err := d.verifySlot(ctx, c, false)
		if err != nil {
			return nil, fmt.Errorf("%s image: %w", c, err)
		}
		images = append(images, img)
	}
	return images, nil
}

// verifyOrFallBack verifies the primaries; a component whose primary
// fails is replaced by its secondary if that one verifies (signature,
// authorization, digest and counter), through a journaled swap. Each
// image is hashed once on the common path.
func (d *Device) verifyOrFallBack(ctx context.Context, res *Result) error {
	var mask byte
	var firstErr error
	images := make([]*Image, 0, len(Components))
	for _, c := range Components {
		img, err := d.verifySlot(ctx, c, false)
		if err == nil {
			images = append(images, img)
			continue
		}
		if !isRejection(err) {
			return err
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("%s image: %w", c, err)
		}
		if _, err2 := d.verifySlot(ctx, c, true); err2 != nil {
			if !isRejection(err2) {
				return err2
			}
			return fmt.Errorf("%w: %v; its secondary slot: %v", ErrNoBootableImage, firstErr, err2)
		}
		mask |= 1 << c
	}
	if mask == 0 {
		res.Images = images
		return nil
	}
	res.Refused = firstErr
	j, err := d.readJournal()
	if err != nil {
		return err
	}
	if j, err = d.begin(j, opFallback, mask); err != nil {
		return err
	}
	if err := d.resume(ctx, j, res); err != nil {
		return err
	}
	if images, err = d.verifyPrimaries(ctx); err != nil {
		if isRejection(err) {
			return fmt.Errorf("%w: %v", ErrNoBootableImage, err)
		}
		return err
	}
	res.Images = images
	return nil
}

// finishConfirm advances the counters to the trial images' sequence
// numbers and closes the operation. Advancing is idempotent, so a cut in
// the middle is finished by the next boot.
func (d *Device) finishConfirm(ctx context.Context, j *journal, res *Result) error {
	for _, c := range Components {
		if !j.has(c) {
			continue
		}
		img, err := d.verifySlot(ctx, c, false)
		if err != nil {
			return fmt.Errorf("confirm %s: %w", c, err)
		}
		if err := d.counters.AdvanceCounterTo(c, img.SequenceNumber); err != nil {
			return fmt.Errorf("confirm %s: %w: %w", c, errCountersPending, err)
		}
	}
	res.Outcome = OutcomeConfirmed
	return d.append(j, record{kind: recDone, value: uint64(OutcomeConfirmed)})
}

// errCountersPending: a counter could not be raised while confirming (a
// TPM that cannot save its NV, say); the next boot raises it.
var errCountersPending = errors.New("counters not raised yet")

// Accept confirms the running trial (the normal world's health check
// passed): the counters move to the new sequence numbers, after which the
// old images can never run again.
//
// Once the confirming record is written the trial is accepted: no boot
// reverts it, and the next one finishes raising the counters. So a counter
// that fails to rise after that record does not fail Accept (saying it
// failed would be a lie the next boot exposes); the journal stays in
// confirming until that boot, which refuses to run if the counters still
// cannot be raised.
func (d *Device) Accept(ctx context.Context) error {
	j, err := d.readJournal()
	if err != nil {
		return err
	}
	if j.idle() || j.op != opInstall || j.trials == 0 || j.revert {
		return ErrNoTrial
	}
	if err := d.append(j, record{kind: recConfirming}); err != nil {
		return err
	}
	j.confirm = true
	if err := d.finishConfirm(ctx, j, &Result{}); err != nil && !errors.Is(err, errCountersPending) {
		return err
	}
	return nil
}

// Reject reverts the running trial now rather than at the next reset.
func (d *Device) Reject(ctx context.Context) error {
	j, err := d.readJournal()
	if err != nil {
		return err
	}
	if j.idle() || j.op != opInstall || j.trials == 0 || j.confirm {
		return ErrNoTrial
	}
	return d.startRevert(ctx, j, &Result{}, errors.New("rejected by the normal world"))
}
