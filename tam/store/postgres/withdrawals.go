package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// AddWithdrawal stores w; ErrExists when its component is withdrawn,
// ErrInvalid when store.MaxWithdrawals are stored. The table is locked
// against other writers first, so that two replicas adding at once count
// each other's row.
func (s *Store) AddWithdrawal(ctx context.Context, w store.Withdrawal) error {
	if err := w.Validate(); err != nil {
		return err
	}
	parts, err := componentsCol([]suit.ComponentID{w.Component})
	if err != nil {
		return err
	}
	what := "withdraw " + w.Component.String()
	return s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE withdrawals IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return constraint(err, what)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM withdrawals`).Scan(&n); err != nil {
			return constraint(err, what)
		}
		if n >= store.MaxWithdrawals {
			return fmt.Errorf("%w: %d withdrawals stored, at most %d", store.ErrInvalid, n, store.MaxWithdrawals)
		}
		_, err := tx.Exec(ctx, `INSERT INTO withdrawals (component, parts, principal, created) VALUES ($1, $2, $3, $4)`,
			componentKey(w.Component), parts, w.By, timeCol(w.Created))
		if err != nil {
			return constraint(err, what)
		}
		return nil
	})
}

func scanWithdrawal(sc scanner) (store.Withdrawal, error) {
	var (
		w       store.Withdrawal
		parts   []byte
		created int64
	)
	if err := sc.Scan(&parts, &w.By, &created); err != nil {
		return store.Withdrawal{}, err
	}
	cs, err := colComponents(parts)
	if err != nil {
		return store.Withdrawal{}, err
	}
	if len(cs) != 1 {
		return store.Withdrawal{}, fmt.Errorf("postgres: corrupt withdrawal: %d components", len(cs))
	}
	w.Component, w.Created = cs[0], colTime(created)
	return w, nil
}

// ListWithdrawals is every withdrawal, by Created, then by component.
func (s *Store) ListWithdrawals(ctx context.Context) ([]store.Withdrawal, error) {
	return list(ctx, s.pool, scanWithdrawal, `SELECT parts, principal, created FROM withdrawals ORDER BY created, component`)
}

// DeleteWithdrawal ends the withdrawal of component; ErrNotFound when it
// is not withdrawn.
func (s *Store) DeleteWithdrawal(ctx context.Context, component suit.ComponentID) error {
	what := "end withdrawal of " + component.String()
	n, err := s.exec(ctx, what, `DELETE FROM withdrawals WHERE component = $1`, componentKey(component))
	return oneRow(n, err, what)
}
