package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/postgres/pgtest"
	"github.com/teeup/teeup/tam/store/storetest"
)

// fillFleet registers n devices (storetest.FleetDevice), each with
// storetest.FleetReports reports, by COPY in transactions of 1,000
// devices (the counts' triggers run for each), counts their versions as
// the migration does, and vacuums, as autovacuum would soon after (the
// counts read the visibility map).
func fillFleet(ctx context.Context, s *Store, n int) error {
	const batch = 1000
	cols := []string{"id", "name", "agent_key", "agreement_key", "endorsement", "reference", "registered", "last_seen", "att_time", "att_status", "att_ear", "att_reason", "tcs", "last_error"}
	envs, err := listCol([][]byte{make([]byte, 32)})
	if err != nil {
		return err
	}
	for first := 0; first < n; first += batch {
		var devs, reps [][]any
		for i := first; i < min(n, first+batch); i++ {
			d := storetest.FleetDevice(i)
			tcs, err := tcsCol(d.TCs)
			if err != nil {
				return err
			}
			devs = append(devs, []any{d.ID, d.Name, d.AgentKey, d.AgreementKey, d.Endorsement, d.Reference, timeCol(d.Registered), timeCol(d.LastSeen),
				timeCol(d.Attestation.Time), d.Attestation.Status, d.Attestation.EAR, d.Attestation.Reason, tcs, d.LastError})
			for j := range storetest.FleetReports {
				reps = append(reps, []any{d.ID, timeCol(storetest.FleetT0.Add(time.Duration(j) * time.Minute)), j == 1, envs, nil, int64(0), ""})
			}
		}
		if err := s.write(ctx, func(tx pgx.Tx) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"devices"}, cols, pgx.CopyFromRows(devs)); err != nil {
				return err
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"reports"}, []string{"device", "time", "success", "envelopes", "suit_reports", "err_code", "err_msg"},
				pgx.CopyFromRows(reps))
			return err
		}); err != nil {
			return err
		}
	}
	if err := s.write(ctx, func(tx pgx.Tx) error { return fillVersionCounts(ctx, tx) }); err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `VACUUM (ANALYZE) devices, reports, attestation_counts, error_counts, version_counts`)
	return err
}

// readEveryDevice is the baseline: the read the status API and the fleet
// page made before FleetStatus (the store's ListDevices, since removed),
// every device's row by ID.
func readEveryDevice(ctx context.Context, s *Store) ([]store.Device, error) {
	return list(ctx, s.pool, scanDevice, `SELECT `+deviceCols+` FROM devices ORDER BY id`)
}

// BenchmarkFleet100000 is issue 15's scale (storetest.BenchFleet) on
// PostgreSQL: the server of TEEUP_TEST_POSTGRES, over loopback; skipped
// without it.
func BenchmarkFleet100000(b *testing.B) {
	s, err := Open(b.Context(), pgtest.Database(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := fillFleet(b.Context(), s, storetest.FleetSize); err != nil {
		b.Fatal(err)
	}
	storetest.BenchFleet(b, s, func(ctx context.Context) ([]store.Device, error) { return readEveryDevice(ctx, s) })
}
