package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/tam/store"
)

// auditLock is the key of the transaction-scoped advisory lock that
// appends hold: one append at a time, so that seq order is commit order
// ("audit" in ASCII).
const auditLock = 0x6175646974

// AppendAudit appends e (its Seq ignored) and returns the Seq it got:
// larger than every Seq before it.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	if err := e.Validate(); err != nil {
		return 0, err
	}
	var seq int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(auditLock)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO audit (time, principal, action, target, result, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq`,
			timeCol(e.Time), e.Principal, e.Action, e.Target, e.Result, e.Detail).Scan(&seq)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: append audit: %w", err)
	}
	return seq, nil
}

// ListAudit is up to limit entries with Seq after after, oldest first;
// limit must be positive and is clamped to store.MaxPage.
func (s *Store) ListAudit(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: audit limit %d", store.ErrInvalid, limit)
	}
	return list(ctx, s.pool, func(sc scanner) (store.AuditEntry, error) {
		var (
			e  store.AuditEntry
			at int64
		)
		if err := sc.Scan(&e.Seq, &at, &e.Principal, &e.Action, &e.Target, &e.Result, &e.Detail); err != nil {
			return store.AuditEntry{}, err
		}
		e.Time = colTime(at)
		return e, nil
	}, `SELECT seq, time, principal, action, target, result, detail FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2`, after, min(limit, store.MaxPage))
}
