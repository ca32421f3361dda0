package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/tam/store"
)

// FleetSummary counts the registered devices, in one snapshot, from what
// migrations/0004_fleet_status.sql keeps (never a device's row): the
// attestation, error and version counts, and the partial indexes of the
// devices never seen and of those with an error.
func (s *Store) FleetSummary(ctx context.Context) (store.FleetSummary, error) {
	var sum store.FleetSummary
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return sum, fmt.Errorf("postgres: fleet summary: %w", err)
	}
	// Read-only: nothing to roll back but the snapshot.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// The zero time as a literal, not a parameter: a generic plan could
	// not use the partial index its predicate names.
	var withError, allVersions int
	for _, q := range []struct {
		query string
		into  []any
	}{
		{`SELECT coalesce(sum(devices), 0) FROM attestation_counts`, []any{&sum.Devices}},
		{`SELECT count(*) FROM devices WHERE last_seen = '-9223372036854775808'::bigint`, []any{&sum.NeverSeen}},
		{`SELECT count(*) FROM devices WHERE last_error <> '' AND last_seen <> '-9223372036854775808'::bigint`, []any{&sum.Failing}},
		{`SELECT coalesce(sum(devices), 0) FROM error_counts`, []any{&withError}},
		{`SELECT count(*) FROM version_counts`, []any{&allVersions}},
	} {
		if err := tx.QueryRow(ctx, q.query).Scan(q.into...); err != nil {
			return sum, fmt.Errorf("postgres: fleet summary: %w", err)
		}
	}
	sum.Up = sum.Devices - sum.NeverSeen - sum.Failing
	if sum.ByAttestation, err = counts(ctx, tx, `SELECT status, devices FROM attestation_counts WHERE devices > 0 ORDER BY status`); err != nil {
		return sum, err
	}
	if sum.LastErrors, err = counts(ctx, tx, `SELECT error, devices FROM error_counts ORDER BY devices DESC, error LIMIT $1`, store.MaxSummaryRows); err != nil {
		return sum, err
	}
	sum.OtherErrors = withError
	for _, c := range sum.LastErrors {
		sum.OtherErrors -= c.N
	}
	if sum.Versions, err = list(ctx, tx, scanVersionCount, `SELECT component, seq, devices FROM version_counts ORDER BY name, seq LIMIT $1`,
		store.MaxSummaryRows); err != nil {
		return sum, err
	}
	sum.MoreVersions = allVersions - len(sum.Versions)
	return sum, nil
}

// counts runs a query of (label, count) rows.
func counts(ctx context.Context, q querier, query string, args ...any) ([]store.Count, error) {
	return list(ctx, q, func(sc scanner) (store.Count, error) {
		var c store.Count
		err := sc.Scan(&c.Label, &c.N)
		return c, err
	}, query, args...)
}

func scanVersionCount(sc scanner) (store.VersionCount, error) {
	var (
		key []byte
		seq int64
		v   store.VersionCount
	)
	if err := sc.Scan(&key, &seq, &v.Devices); err != nil {
		return v, err
	}
	c, err := colComponentKey(key)
	v.Component, v.SequenceNumber = c, colSeq(seq)
	return v, err
}

// DevicePage is up to limit devices whose IDs sort after after, by ID.
func (s *Store) DevicePage(ctx context.Context, after string, limit int) ([]store.Device, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: device page limit %d", store.ErrInvalid, limit)
	}
	return list(ctx, s.pool, scanDevice, `SELECT `+deviceCols+` FROM devices WHERE id > $1 ORDER BY id LIMIT $2`, after, min(limit, store.MaxPage))
}

// LastReports is the newest report of each of devices that has one: for
// each ID, one step down the index on reports (device, time, id).
func (s *Store) LastReports(ctx context.Context, devices []string) (map[string]store.Report, error) {
	if len(devices) > store.MaxPage {
		return nil, fmt.Errorf("%w: last reports of %d devices, more than %d", store.ErrInvalid, len(devices), store.MaxPage)
	}
	out := make(map[string]store.Report, len(devices))
	// An ID no device can have (not UTF-8, a NUL) is absent; PostgreSQL's
	// text would refuse the whole call.
	ids := make([]string, 0, len(devices))
	for _, id := range devices {
		if store.ValidText("device", id, store.MaxKey) == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	rs, err := list(ctx, s.pool, scanReport, `SELECT r.device, r.time, r.success, r.envelopes, r.suit_reports, r.err_code, r.err_msg
		FROM (SELECT DISTINCT unnest($1::text[]) AS id) d
		CROSS JOIN LATERAL (SELECT * FROM reports WHERE device = d.id ORDER BY time DESC, id DESC LIMIT 1) r`, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		out[r.Device] = r
	}
	return out, nil
}
