package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/postgres/pgtest"
)

// fleetSize is issue 15's fleet: the device page and the status queries
// are measured against a store holding this many devices.
const fleetSize = 100_000

var fleetT0 = time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)

// fillFleet registers n devices as the SQLite benchmark does (see
// fleetDevice), each with 2 reports, by COPY in transactions of 1,000
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
			d := fleetDevice(i)
			tcs, err := tcsCol(d.TCs)
			if err != nil {
				return err
			}
			devs = append(devs, []any{d.ID, d.Name, d.AgentKey, d.AgreementKey, d.Endorsement, d.Reference, timeCol(d.Registered), timeCol(d.LastSeen),
				timeCol(d.Attestation.Time), d.Attestation.Status, d.Attestation.EAR, d.Attestation.Reason, tcs, d.LastError})
			for j := range 2 {
				reps = append(reps, []any{d.ID, timeCol(fleetT0.Add(time.Duration(j) * time.Minute)), j == 1, envs, nil, int64(0), ""})
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

// fleetDevice is the i-th device of the benchmark's fleet: a tc-list of 4
// TCs (versions spread over 3 sequence numbers), an attestation result
// (one in 20 warning, one in 50 never appraised), one in 10 with a last
// error (of 5 texts), one in 100 never seen.
func fleetDevice(i int) store.Device {
	tcs := make([]store.InstalledTC, 4)
	for j := range tcs {
		tcs[j] = store.InstalledTC{Component: suit.ComponentID{[]byte("TA"), []byte("acme"), []byte(strconv.Itoa(j))}, SequenceNumber: uint64(j + i%3), Digest: make([]byte, 36)}
	}
	d := store.Device{ID: fleetID(i), Name: "device " + strconv.Itoa(i), AgentKey: make([]byte, 91), Endorsement: make([]byte, 600),
		Registered: fleetT0, LastSeen: fleetT0.Add(time.Hour), TCs: tcs,
		Attestation: store.Attestation{Time: fleetT0.Add(time.Hour), Status: "affirming", EAR: make([]byte, 700)}}
	switch {
	case i%50 == 1:
		d.Attestation = store.Attestation{}
	case i%20 == 2:
		d.Attestation.Status = "warning"
	}
	if i%10 == 0 {
		d.LastError = "update failed: " + strconv.Itoa(i/10%5)
	}
	if i%100 == 3 {
		d.LastSeen, d.TCs = time.Time{}, nil
	}
	return d
}

func fleetID(i int) string { return fmt.Sprintf("%064x", i) }

// readEveryDevice is the baseline: the read the status API and the fleet
// page made before FleetStatus (the store's ListDevices, since removed),
// every device's row by ID.
func readEveryDevice(ctx context.Context, s *Store) ([]store.Device, error) {
	return list(ctx, s.pool, scanDevice, `SELECT `+deviceCols+` FROM devices ORDER BY id`)
}

// reportP99 reports the 99th percentile of took, in milliseconds.
func reportP99(b *testing.B, took []time.Duration) {
	b.Helper()
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[min(len(took)-1, len(took)*99/100)])/1e6, "p99-ms")
}

// Issue 15's scale on PostgreSQL (the server of TEEUP_TEST_POSTGRES, over
// loopback; skipped without it), as tam/store/sqlite's
// BenchmarkFleet100000: ReadEveryDevice is what the status API and the fleet
// page read before FleetStatus (the baseline); FleetStatus is what they
// read now for their first page (FleetSummary, DevicePage of 100,
// LastReports of that page); DevicePage is a device's page (Device and its
// last reports).
func BenchmarkFleet100000(b *testing.B) {
	s, err := Open(b.Context(), pgtest.Database(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	if err := fillFleet(ctx, s, fleetSize); err != nil {
		b.Fatal(err)
	}
	b.Run("ReadEveryDevice", func(b *testing.B) {
		var took []time.Duration
		for b.Loop() {
			t0 := time.Now()
			ds, err := readEveryDevice(ctx, s)
			took = append(took, time.Since(t0))
			if err != nil || len(ds) != fleetSize {
				b.Fatalf("%d devices, %v", len(ds), err)
			}
		}
		reportP99(b, took)
	})
	b.Run("FleetStatus", func(b *testing.B) {
		var took []time.Duration
		for b.Loop() {
			t0 := time.Now()
			sum, err := s.FleetSummary(ctx)
			if err != nil || sum.Devices != fleetSize || len(sum.Versions) != 12 {
				b.Fatalf("summary %+v, %v", sum, err)
			}
			page, err := s.DevicePage(ctx, "", 100)
			if err != nil || len(page) != 100 {
				b.Fatalf("%d devices, %v", len(page), err)
			}
			ids := make([]string, len(page))
			for i, d := range page {
				ids[i] = d.ID
			}
			last, err := s.LastReports(ctx, ids)
			took = append(took, time.Since(t0))
			if err != nil || len(last) != 100 {
				b.Fatalf("%d last reports, %v", len(last), err)
			}
		}
		reportP99(b, took)
	})
	b.Run("DevicePage", func(b *testing.B) {
		var took []time.Duration
		i := 0
		for b.Loop() {
			id := fleetID(i * 7919 % fleetSize) // spread over the table
			i++
			t0 := time.Now()
			d, err := s.Device(ctx, id)
			if err != nil || d.ID != id {
				b.Fatalf("device %s: %v", id, err)
			}
			rs, err := s.Reports(ctx, id, 10)
			took = append(took, time.Since(t0))
			if err != nil || len(rs) != 2 {
				b.Fatalf("%d reports, %v", len(rs), err)
			}
		}
		reportP99(b, took)
	})
}
