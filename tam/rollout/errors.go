package rollout

import "errors"

// Errors of the engine, matched with errors.Is. The store's ErrNotFound
// (no such group, release or rollout) and ErrConflict (the rollout is not
// in a state that allows the change) come through wrapped.
var (
	// ErrInvalid: a request the engine refuses as given (a wave or
	// threshold out of range, a selector it cannot read).
	ErrInvalid = errors.New("rollout: invalid request")
	// ErrEmptyGroup: the group resolves to no device.
	ErrEmptyGroup = errors.New("rollout: the group has no device")
	// ErrNotHeld: a release names an envelope published for direct
	// delivery, which every device gets without a rollout, or one for a
	// single device.
	ErrNotHeld = errors.New("rollout: envelope not held for a release")
	// ErrTooLargeForTEEP: a release whose TAs, or whose firmware, do not
	// fit together in one TEEP Update, so it could not be installed as
	// one set.
	ErrTooLargeForTEEP = errors.New("rollout: the release does not fit in one TEEP Update")
)
