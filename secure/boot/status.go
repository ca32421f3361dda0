package boot

import "context"

// SlotStatus is what a slot holds, verified or not.
type SlotStatus struct {
	Image *Image `json:"image,omitempty"`
	Error string `json:"error,omitempty"`
}

// ComponentStatus describes one component.
type ComponentStatus struct {
	Component string     `json:"component"`
	Counter   uint64     `json:"counter"`
	Primary   SlotStatus `json:"primary"`
	Secondary SlotStatus `json:"secondary"`
}

// Status is the device's update state as the bootloader sees it.
type Status struct {
	Components []ComponentStatus `json:"components"`
	// State is idle, staged, trial, confirming or reverting (an OpState).
	State string `json:"state"`
	// Set lists the components of the install set in progress.
	Set         []Component `json:"set,omitempty"`
	TrialBoots  uint64      `json:"trial_boots"`
	Generation  uint64      `json:"generation"`
	LastOutcome string      `json:"last_outcome"`
}

// OpState is the state of the install-set operation the journal records.
type OpState string

// The states of the install-set operation.
const (
	OpIdle       OpState = "idle"       // no install set in progress
	OpStaged     OpState = "staged"     // committed, applied at the next boot
	OpTrial      OpState = "trial"      // running the new images, not yet accepted
	OpConfirming OpState = "confirming" // accepted, being made permanent
	OpReverting  OpState = "reverting"  // rejected or failed, the old images returning
)

// Operation reads the journal alone: the state (idle, staged, trial,
// confirming or reverting) and the components of the set in progress.
// Unlike Status it hashes nothing.
func (d *Device) Operation() (state OpState, set []Component, err error) {
	st, err := d.operation()
	if err != nil {
		return "", nil, err
	}
	return OpState(st.State), st.Set, nil
}

func (d *Device) operation() (*Status, error) {
	j, err := d.readJournal()
	if err != nil {
		return nil, err
	}
	st := &Status{Generation: j.gen, TrialBoots: j.trials, LastOutcome: j.outcome.String()}
	switch {
	case j.idle():
		st.State = string(OpIdle)
	case j.confirm:
		st.State = string(OpConfirming)
	case j.revert:
		st.State = string(OpReverting)
	case j.trials > 0:
		st.State = string(OpTrial)
	default:
		st.State = string(OpStaged)
	}
	if !j.idle() {
		for _, c := range Components {
			if j.has(c) {
				st.Set = append(st.Set, c)
			}
		}
	}
	return st, nil
}

// Status reads the journal and verifies every slot, changing nothing.
func (d *Device) Status(ctx context.Context) (*Status, error) {
	st, err := d.operation()
	if err != nil {
		return nil, err
	}
	for _, c := range Components {
		cs := ComponentStatus{Component: c.String()}
		if cs.Counter, err = d.counters.Counter(c); err != nil {
			return nil, err
		}
		for _, slot := range []struct {
			secondary bool
			out       *SlotStatus
		}{{false, &cs.Primary}, {true, &cs.Secondary}} {
			img, err := d.verifySlot(ctx, c, slot.secondary)
			switch {
			case err == nil:
				slot.out.Image = img
			case isRejection(err):
				slot.out.Error = err.Error()
			default:
				return nil, err
			}
		}
		st.Components = append(st.Components, cs)
	}
	return st, nil
}

// Counter reads the anti-rollback counter of c.
func (d *Device) Counter(c Component) (uint64, error) { return d.counters.Counter(c) }

// Identity is the vendor and class ID the device matches manifests with.
func (d *Device) Identity() (vendor, class []byte) { return d.cfg.VendorID, d.cfg.ClassID }
