package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/teeup/teeup/tam/store"
)

// FleetSummary counts the registered devices, in one snapshot, from what
// migrations/0005_fleet_status.sql keeps (never a device's row): the
// attestation and version counts, and the partial indexes of the devices
// never seen and of those with an error.
func (s *Store) FleetSummary(ctx context.Context) (store.FleetSummary, error) {
	var sum store.FleetSummary
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return sum, fmt.Errorf("sqlite: fleet summary: %w", err)
	}
	// Read-only: nothing to roll back but the snapshot.
	defer func() { _ = tx.Rollback() }()
	var withError, seenWithError int
	for _, q := range []struct {
		query string
		into  []any
	}{
		{`SELECT coalesce(sum(devices), 0) FROM attestation_counts`, []any{&sum.Devices}},
		{`SELECT count(*) FROM devices WHERE last_seen = -9223372036854775808`, []any{&sum.NeverSeen}},
		{`SELECT count(*), coalesce(sum(last_seen <> -9223372036854775808), 0) FROM devices WHERE last_error <> ''`, []any{&withError, &seenWithError}},
		{`SELECT count(*) FROM version_counts`, []any{&sum.MoreVersions}},
	} {
		if err := tx.QueryRowContext(ctx, q.query).Scan(q.into...); err != nil {
			return sum, fmt.Errorf("sqlite: fleet summary: %w", err)
		}
	}
	sum.Failing = seenWithError
	sum.Up = sum.Devices - sum.NeverSeen - sum.Failing
	if sum.ByAttestation, err = counts(ctx, tx, `SELECT status, devices FROM attestation_counts WHERE devices > 0 ORDER BY status`); err != nil {
		return sum, err
	}
	if sum.LastErrors, err = counts(ctx, tx, `SELECT last_error, count(*) AS n FROM devices WHERE last_error <> '' GROUP BY last_error ORDER BY n DESC, last_error LIMIT ?`,
		store.MaxSummaryRows); err != nil {
		return sum, err
	}
	sum.OtherErrors = withError
	for _, c := range sum.LastErrors {
		sum.OtherErrors -= c.N
	}
	if sum.Versions, err = versionCounts(ctx, tx); err != nil {
		return sum, err
	}
	sum.MoreVersions -= len(sum.Versions)
	return sum, nil
}

// counts runs a query of (label, count) rows.
func counts(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]store.Count, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: fleet summary: %w", err)
	}
	defer rows.Close()
	var out []store.Count
	for rows.Next() {
		var c store.Count
		if err := rows.Scan(&c.Label, &c.N); err != nil {
			return nil, fmt.Errorf("sqlite: fleet summary: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: fleet summary: %w", err)
	}
	return out, nil
}

// versionCounts is the first MaxSummaryRows of version_counts, by
// component name then sequence number.
func versionCounts(ctx context.Context, tx *sql.Tx) ([]store.VersionCount, error) {
	rows, err := tx.QueryContext(ctx, `SELECT component, seq, devices FROM version_counts ORDER BY name, seq LIMIT ?`, store.MaxSummaryRows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: fleet versions: %w", err)
	}
	defer rows.Close()
	var out []store.VersionCount
	for rows.Next() {
		var (
			key []byte
			seq int64
			v   store.VersionCount
		)
		if err := rows.Scan(&key, &seq, &v.Devices); err != nil {
			return nil, fmt.Errorf("sqlite: fleet versions: %w", err)
		}
		if v.Component, err = colComponentKey(key); err != nil {
			return nil, err
		}
		v.SequenceNumber = colSeq(seq)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: fleet versions: %w", err)
	}
	return out, nil
}

// DevicePage is up to limit devices whose IDs sort after after, by ID.
func (s *Store) DevicePage(ctx context.Context, after string, limit int) ([]store.Device, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: device page limit %d", store.ErrInvalid, limit)
	}
	return list(ctx, s.r, scanDevice, `SELECT `+deviceCols+` FROM devices WHERE id > ? ORDER BY id LIMIT ?`, after, min(limit, store.MaxPage))
}

// LastReports is the newest report of each of devices that has one: for
// each ID, one step down the index on reports (device, time, id).
func (s *Store) LastReports(ctx context.Context, devices []string) (map[string]store.Report, error) {
	if len(devices) > store.MaxPage {
		return nil, fmt.Errorf("%w: last reports of %d devices, more than %d", store.ErrInvalid, len(devices), store.MaxPage)
	}
	out := make(map[string]store.Report, len(devices))
	if len(devices) == 0 {
		return out, nil
	}
	ids, err := json.Marshal(devices)
	if err != nil {
		return nil, fmt.Errorf("sqlite: last reports: %w", err)
	}
	rs, err := list(ctx, s.r, scanReport, `SELECT device, time, success, envelopes, suit_reports, err_code, err_msg FROM reports WHERE id IN (
		SELECT (SELECT r.id FROM reports r WHERE r.device = j.value ORDER BY r.time DESC, r.id DESC LIMIT 1) FROM json_each(?) j)`, string(ids))
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		out[r.Device] = r
	}
	return out, nil
}
