package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/teeup/teeup/tam/store"
)

// AppendAudit appends e (its Seq ignored) and returns the Seq it got:
// larger than every Seq before it.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	if err := e.Validate(); err != nil {
		return 0, err
	}
	var seq int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO audit (time, principal, action, target, result, detail) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`,
			timeCol(e.Time), e.Principal, e.Action, e.Target, e.Result, e.Detail).Scan(&seq)
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: append audit: %w", err)
	}
	return seq, nil
}

// ListAudit is up to limit entries with Seq after after, oldest first;
// limit must be positive and is clamped to store.MaxPage.
func (s *Store) ListAudit(ctx context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: audit limit %d", store.ErrInvalid, limit)
	}
	return list(ctx, s.r, func(sc interface{ Scan(...any) error }) (store.AuditEntry, error) {
		var (
			e  store.AuditEntry
			at int64
		)
		if err := sc.Scan(&e.Seq, &at, &e.Principal, &e.Action, &e.Target, &e.Result, &e.Detail); err != nil {
			return store.AuditEntry{}, err
		}
		e.Time = colTime(at)
		return e, nil
	}, `SELECT seq, time, principal, action, target, result, detail FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`, after, min(limit, store.MaxPage))
}
