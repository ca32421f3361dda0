package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/ta"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
)

// A withdrawal takes a TA off the fleet (tam/teepsrv acts on it): no
// device is offered its envelopes or its personalization any more, and
// every device whose tc-list lists it is told to unlink it.
//
// Who may withdraw: an operator, any TA; a TA author, only a TA inside its
// own author's prefixes, the same scope it publishes in. Withdrawing is
// the inverse of publishing, and an author who may publish a new version
// of its TA (one that does anything, or nothing) already holds every power
// over that TA that a withdrawal gives; it holds none over another
// author's. A firmware author withdraws nothing: no firmware component is
// ever withdrawn (a device cannot run without its secure and normal
// images; the secure world refuses to unlink them too), so the role would
// have nothing to act on. Ending a withdrawal follows the same rule.

// WithdrawalStatus is a withdrawal and how far it has gone.
type WithdrawalStatus struct {
	store.Withdrawal
	// Running counts the devices whose last tc-list still lists the TA:
	// the withdrawal is done on a device once its next tc-list does not.
	Running int
	// RunningIDs are the first MaxRunningListed of them, by ID.
	RunningIDs []string
}

// Withdraw withdraws TA tc for the principal in ctx: it must be a TA
// (ErrNotWithdrawable otherwise) that an envelope installs (ErrUnknownTC),
// inside the prefixes of the principal's author unless the principal is
// an operator (ErrOutsidePrefixes, ErrNotAuthor), and not withdrawn
// already (ErrExists). Then the long polls are told: devices running it
// unlink it in their next session.
func (c *Catalog) Withdraw(ctx context.Context, tc suit.ComponentID) (store.Withdrawal, error) {
	p, err := c.withdrawer(ctx, tc)
	if err != nil {
		return store.Withdrawal{}, err
	}
	if _, err := c.publishedSequence(ctx, tc); err != nil {
		return store.Withdrawal{}, err
	}
	w := store.Withdrawal{Component: slices.Clone(tc), By: p.Name, Created: c.now()}
	if err := c.st.AddWithdrawal(ctx, w); err != nil {
		return store.Withdrawal{}, storeErr(err)
	}
	c.notify("")
	return w, nil
}

// CancelWithdrawal ends the withdrawal of TA tc, with Withdraw's rule of
// who may, and returns it: its envelopes are offered again (to devices
// that lack the TA, which now include those that unlinked it).
// ErrNotWithdrawn when it is not withdrawn.
func (c *Catalog) CancelWithdrawal(ctx context.Context, tc suit.ComponentID) (store.Withdrawal, error) {
	if _, err := c.withdrawer(ctx, tc); err != nil {
		return store.Withdrawal{}, err
	}
	ws, err := c.st.ListWithdrawals(ctx)
	if err != nil {
		return store.Withdrawal{}, err
	}
	i := slices.IndexFunc(ws, func(w store.Withdrawal) bool { return w.Component.Equal(tc) })
	if i < 0 {
		return store.Withdrawal{}, fmt.Errorf("%w: %s", ErrNotWithdrawn, tc)
	}
	// The delete decides: of two cancels racing, one finds it gone.
	err = c.st.DeleteWithdrawal(ctx, tc)
	if errors.Is(err, store.ErrNotFound) {
		return store.Withdrawal{}, fmt.Errorf("%w: %s", ErrNotWithdrawn, tc)
	}
	if err != nil {
		return store.Withdrawal{}, err
	}
	c.notify("")
	return ws[i], nil
}

// Withdrawals are the withdrawals in force, oldest first, each with the
// devices that still run its TA. The devices are read a page at a time
// (store.MaxPage), never the whole fleet at once.
func (c *Catalog) Withdrawals(ctx context.Context) ([]WithdrawalStatus, error) {
	ws, err := c.st.ListWithdrawals(ctx)
	if err != nil || len(ws) == 0 {
		return nil, err
	}
	out := make([]WithdrawalStatus, len(ws))
	for i, w := range ws {
		out[i].Withdrawal = w
	}
	for after := ""; ; {
		page, err := c.st.DevicePage(ctx, after, store.MaxPage)
		if err != nil {
			return nil, err
		}
		for _, d := range page {
			for i := range out {
				if slices.ContainsFunc(d.TCs, func(tc store.InstalledTC) bool { return tc.Component.Equal(out[i].Component) }) {
					out[i].Running++
					if len(out[i].RunningIDs) < MaxRunningListed {
						out[i].RunningIDs = append(out[i].RunningIDs, d.ID)
					}
				}
			}
		}
		if len(page) < store.MaxPage {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// withdrawer is the principal in ctx if it may withdraw tc (see the rule
// above).
func (c *Catalog) withdrawer(ctx context.Context, tc suit.ComponentID) (store.Principal, error) {
	if err := Withdrawable(tc); err != nil {
		return store.Principal{}, err
	}
	p, ok := auth.PrincipalFrom(ctx)
	switch {
	case !ok:
		return store.Principal{}, fmt.Errorf("%w: no principal", ErrNotAuthor)
	case slices.Contains(p.Roles, store.RoleOperator):
		return p, nil
	case !slices.Contains(p.Roles, store.RoleTAAuthor) || p.Author == "":
		return store.Principal{}, fmt.Errorf("%w: %q is neither an operator nor a TA author", ErrNotAuthor, p.Name)
	}
	a, err := c.st.Author(ctx, p.Author)
	if errors.Is(err, store.ErrNotFound) {
		return store.Principal{}, fmt.Errorf("%w: %q", ErrUnknownAuthor, p.Author)
	}
	if err != nil {
		return store.Principal{}, err
	}
	if a.Kind != store.TAAuthor || !slices.ContainsFunc(a.Prefixes, tc.HasPrefix) {
		return store.Principal{}, fmt.Errorf("%w: %s is not inside the prefixes of %q", ErrOutsidePrefixes, tc, a.Name)
	}
	return p, nil
}

// Withdrawable is nil for a TA's component identifier (secure/ta:
// ["TA", author, name]) and ErrNotWithdrawable for any other: a firmware
// component (a secure or normal image) is never withdrawn, and a TA's
// personalization goes with its TA.
func Withdrawable(tc suit.ComponentID) error {
	switch owner, ok := ta.Of(tc); {
	case ta.IsTA(tc):
		return nil
	case ok:
		return fmt.Errorf("%w: %s belongs to TA %s: withdraw the TA", ErrNotWithdrawable, tc, owner)
	case len(tc) > 0 && string(tc[0]) == ta.Namespace:
		return fmt.Errorf("%w: %s is not a TA ['%s', author, name]", ErrNotWithdrawable, tc, ta.Namespace)
	default:
		return fmt.Errorf("%w: %s is a firmware component, not a TA ['%s', author, name]: a device cannot run without it",
			ErrNotWithdrawable, tc, ta.Namespace)
	}
}
