package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/tam/store"
)

// FleetSummary counts the registered devices, in one snapshot.
func (s *Store) FleetSummary(ctx context.Context) (store.FleetSummary, error) {
	var sum store.FleetSummary
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return sum, fmt.Errorf("postgres: fleet summary: %w", err)
	}
	// Read-only: nothing to roll back but the snapshot.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE last_seen = $1), count(*) FILTER (WHERE last_seen <> $1 AND last_error <> '') FROM devices`,
		int64(zeroTime)).Scan(&sum.Devices, &sum.NeverSeen, &sum.Failing); err != nil {
		return sum, fmt.Errorf("postgres: fleet summary: %w", err)
	}
	sum.Up = sum.Devices - sum.NeverSeen - sum.Failing
	if sum.ByAttestation, err = counts(ctx, tx, `SELECT att_status, count(*) FROM devices GROUP BY att_status ORDER BY att_status COLLATE "C"`); err != nil {
		return sum, err
	}
	var failing int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM devices WHERE last_error <> ''`).Scan(&failing); err != nil {
		return sum, fmt.Errorf("postgres: fleet summary: %w", err)
	}
	if sum.LastErrors, err = counts(ctx, tx, `SELECT last_error, count(*) AS n FROM devices WHERE last_error <> '' GROUP BY last_error
		ORDER BY n DESC, last_error COLLATE "C" LIMIT $1`, store.MaxSummaryRows); err != nil {
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
func counts(ctx context.Context, q querier, query string, args ...any) ([]store.Count, error) {
	return list(ctx, q, func(sc scanner) (store.Count, error) {
		var c store.Count
		err := sc.Scan(&c.Label, &c.N)
		return c, err
	}, query, args...)
}

// versionCounts counts the devices by (component, sequence number) of their
// tc-lists.
func versionCounts(ctx context.Context, q querier) ([]store.VersionCount, int, error) {
	lists, err := list(ctx, q, func(sc scanner) ([]store.InstalledTC, error) {
		var b []byte
		if err := sc.Scan(&b); err != nil {
			return nil, err
		}
		return colTCs(b)
	}, `SELECT tcs FROM devices`)
	if err != nil {
		return nil, 0, err
	}
	type version struct {
		component string
		seq       uint64
	}
	n := map[version]*store.VersionCount{}
	for _, tcs := range lists {
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
