package postgres

import (
	"context"
	"fmt"

	"github.com/teeup/teeup/tam/store"
)

// FleetSummary counts the registered devices from what
// migrations/0004_fleet_status.sql keeps (never a device's row): the
// attestation, error and version counts, and the partial indexes of the
// devices never seen and of those with an error. It is one statement: one
// snapshot, and one round trip to the server (on a busy machine each one
// waits to be scheduled).
func (s *Store) FleetSummary(ctx context.Context) (store.FleetSummary, error) {
	var (
		sum                              store.FleetSummary
		withError, allVersions           int
		attStatus, errText               []string
		attN, errN, versionSeq, versionN []int64
		versionKey                       [][]byte
	)
	// The zero time as a literal, not a parameter: a generic plan could
	// not use the partial index its predicate names. Each list is two or
	// three arrays in the same order.
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT coalesce(sum(devices), 0) FROM attestation_counts),
		(SELECT count(*) FROM devices WHERE last_seen = '-9223372036854775808'::bigint),
		(SELECT count(*) FROM devices WHERE last_error <> '' AND last_seen <> '-9223372036854775808'::bigint),
		(SELECT coalesce(sum(devices), 0) FROM error_counts),
		(SELECT count(*) FROM version_counts),
		a.status, a.n, e.error, e.n, v.component, v.seq, v.n
		FROM
		(SELECT array_agg(status ORDER BY status) AS status, array_agg(devices ORDER BY status) AS n
			FROM attestation_counts WHERE devices > 0) a,
		(SELECT array_agg(error ORDER BY devices DESC, error) AS error, array_agg(devices ORDER BY devices DESC, error) AS n
			FROM (SELECT error, devices FROM error_counts ORDER BY devices DESC, error LIMIT $1) top) e,
		(SELECT array_agg(component ORDER BY name, seq) AS component, array_agg(seq ORDER BY name, seq) AS seq, array_agg(devices ORDER BY name, seq) AS n
			FROM (SELECT component, name, seq, devices FROM version_counts ORDER BY name, seq LIMIT $1) top) v`,
		store.MaxSummaryRows).Scan(&sum.Devices, &sum.NeverSeen, &sum.Failing, &withError, &allVersions,
		&attStatus, &attN, &errText, &errN, &versionKey, &versionSeq, &versionN)
	if err != nil {
		return sum, fmt.Errorf("postgres: fleet summary: %w", err)
	}
	if len(attN) != len(attStatus) || len(errN) != len(errText) || len(versionSeq) != len(versionKey) || len(versionN) != len(versionKey) {
		return sum, fmt.Errorf("postgres: fleet summary: arrays of unequal lengths")
	}
	sum.Up = sum.Devices - sum.NeverSeen - sum.Failing
	for i, status := range attStatus {
		sum.ByAttestation = append(sum.ByAttestation, store.Count{Label: status, N: int(attN[i])})
	}
	sum.OtherErrors = withError
	for i, text := range errText {
		sum.LastErrors = append(sum.LastErrors, store.Count{Label: text, N: int(errN[i])})
		sum.OtherErrors -= int(errN[i])
	}
	for i, key := range versionKey {
		c, err := colComponentKey(key)
		if err != nil {
			return sum, err
		}
		sum.Versions = append(sum.Versions, store.VersionCount{Component: c, SequenceNumber: colSeq(versionSeq[i]), Devices: int(versionN[i])})
	}
	sum.MoreVersions = allVersions - len(sum.Versions)
	return sum, nil
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
