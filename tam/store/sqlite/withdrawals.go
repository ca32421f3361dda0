package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// AddWithdrawal stores w; ErrExists when its component is withdrawn,
// ErrInvalid when store.MaxWithdrawals are stored.
func (s *Store) AddWithdrawal(ctx context.Context, w store.Withdrawal) error {
	if err := w.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		// One writer: the count and the insert see the same table.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM withdrawals`).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: count withdrawals: %w", err)
		}
		if n >= store.MaxWithdrawals {
			return fmt.Errorf("%w: %d withdrawals stored, at most %d", store.ErrInvalid, n, store.MaxWithdrawals)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO withdrawals (component, parts, principal, created) VALUES (?, ?, ?, ?)`,
			componentKey(w.Component), componentsCol([]suit.ComponentID{w.Component}), w.By, timeCol(w.Created))
		if err != nil {
			return constraint(err, "withdraw "+w.Component.String())
		}
		return nil
	})
}

func scanWithdrawal(sc interface{ Scan(...any) error }) (store.Withdrawal, error) {
	var (
		w       store.Withdrawal
		parts   []suit.ComponentID
		created int64
	)
	if err := sc.Scan(colComponents(&parts), &w.By, &created); err != nil {
		return store.Withdrawal{}, err
	}
	if len(parts) != 1 {
		return store.Withdrawal{}, fmt.Errorf("sqlite: corrupt withdrawal: %d components", len(parts))
	}
	w.Component, w.Created = parts[0], colTime(created)
	return w, nil
}

// ListWithdrawals is every withdrawal, by Created, then by component.
func (s *Store) ListWithdrawals(ctx context.Context) ([]store.Withdrawal, error) {
	return list(ctx, s.r, scanWithdrawal, `SELECT parts, principal, created FROM withdrawals ORDER BY created, component`)
}

// DeleteWithdrawal ends the withdrawal of component; ErrNotFound when it
// is not withdrawn.
func (s *Store) DeleteWithdrawal(ctx context.Context, component suit.ComponentID) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM withdrawals WHERE component = ?`, componentKey(component))
		if err != nil {
			return fmt.Errorf("sqlite: end withdrawal of %s: %w", component, err)
		}
		n, err := res.RowsAffected()
		switch {
		case err != nil:
			return fmt.Errorf("sqlite: end withdrawal of %s: %w", component, err)
		case n == 0:
			return fmt.Errorf("withdrawal of %s: %w", component, store.ErrNotFound)
		}
		return nil
	})
}
