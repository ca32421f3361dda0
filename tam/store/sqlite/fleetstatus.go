package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/teeup/teeup/tam/store"
)

// FleetSummary counts the registered devices.
func (s *Store) FleetSummary(ctx context.Context) (store.FleetSummary, error) {
	var sum store.FleetSummary
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return sum, fmt.Errorf("sqlite: fleet summary: %w", err)
	}
	// Read-only: nothing to roll back but the snapshot.
	defer func() { _ = tx.Rollback() }()
	if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(last_seen = ?), 0), coalesce(sum(last_seen <> ? AND last_error <> ''), 0) FROM devices`,
		zeroTime, zeroTime).Scan(&sum.Devices, &sum.NeverSeen, &sum.Failing); err != nil {
		return sum, fmt.Errorf("sqlite: fleet summary: %w", err)
	}
	sum.Up = sum.Devices - sum.NeverSeen - sum.Failing
	if sum.ByAttestation, err = counts(ctx, tx, `SELECT att_status, count(*) FROM devices GROUP BY att_status ORDER BY att_status`); err != nil {
		return sum, err
	}
	var failing int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM devices WHERE last_error <> ''`).Scan(&failing); err != nil {
		return sum, fmt.Errorf("sqlite: fleet summary: %w", err)
	}
	if sum.LastErrors, err = counts(ctx, tx, `SELECT last_error, count(*) AS n FROM devices WHERE last_error <> '' GROUP BY last_error ORDER BY n DESC, last_error LIMIT ?`,
		store.MaxSummaryRows); err != nil {
		return sum, err
	}
	sum.OtherErrors = failing
	for _, c := range sum.LastErrors {
		sum.OtherErrors -= c.N
	}
	if sum.Versions, sum.MoreVersions, err = versionCounts(ctx, tx); err != nil {
		return sum, err
	}
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

// versionCounts counts the devices by (component, sequence number) of their
// tc-lists.
func versionCounts(ctx context.Context, tx *sql.Tx) ([]store.VersionCount, int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT tcs FROM devices`)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: fleet versions: %w", err)
	}
	defer rows.Close()
	type version struct {
		component string
		seq       uint64
	}
	n := map[version]*store.VersionCount{}
	for rows.Next() {
		var tcs []store.InstalledTC
		if err := rows.Scan(colTCs(&tcs)); err != nil {
			return nil, 0, fmt.Errorf("sqlite: fleet versions: %w", err)
		}
		seen := map[version]bool{}
		for _, tc := range tcs {
			v := version{string(componentKey(tc.Component)), tc.SequenceNumber}
			if seen[v] {
				continue
			}
			seen[v] = true
			if n[v] == nil {
				n[v] = &store.VersionCount{Component: tc.Component, SequenceNumber: tc.SequenceNumber}
			}
			n[v].Devices++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: fleet versions: %w", err)
	}
	var out []store.VersionCount
	for _, v := range n {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b store.VersionCount) int {
		return cmp.Or(cmp.Compare(a.Component.String(), b.Component.String()), cmp.Compare(a.SequenceNumber, b.SequenceNumber))
	})
	if len(out) > store.MaxSummaryRows {
		return out[:store.MaxSummaryRows], len(out) - store.MaxSummaryRows, nil
	}
	return out, 0, nil
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
