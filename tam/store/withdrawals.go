package store

import (
	"context"
	"time"

	"github.com/teeup/teeup/secure/suit"
)

// Withdrawal is a TA taken off the fleet: while it stands, the TAM offers
// none of the TA's envelopes (nor its personalization) to any device and
// tells every device whose tc-list lists the TA to unlink it (a TEEP
// Update's unneeded-manifest-list). The store keeps any component; that
// only a TA may be withdrawn is the catalog's rule (a device cannot run
// without its firmware).
type Withdrawal struct {
	// Component is the TA withdrawn (secure/ta: ["TA", author, name]).
	Component suit.ComponentID
	// By is the principal who withdrew it.
	By      string
	Created time.Time
}

// Withdrawals are the TAs withdrawn, at most MaxWithdrawals.
type Withdrawals interface {
	// AddWithdrawal stores w; ErrExists when its component is withdrawn
	// already, ErrInvalid when MaxWithdrawals are stored.
	AddWithdrawal(ctx context.Context, w Withdrawal) error
	// ListWithdrawals is every withdrawal, by Created, then by component
	// (its parts in order, each compared by its length, then its bytes).
	ListWithdrawals(ctx context.Context) ([]Withdrawal, error)
	// DeleteWithdrawal ends the withdrawal of component (the TA may be
	// delivered again); ErrNotFound when it is not withdrawn.
	DeleteWithdrawal(ctx context.Context, component suit.ComponentID) error
}

// Validate checks w before it is stored.
func (w Withdrawal) Validate() error {
	return firstError(
		component("withdrawn component", w.Component),
		key("withdrawn by", w.By),
		when("withdrawn", w.Created),
	)
}
