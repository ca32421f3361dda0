package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// fleetSize is issue 15's fleet: the device page and the status queries
// are measured against a store holding this many devices.
const fleetSize = 100_000

// fillFleet registers n devices, each with a tc-list of 4 TCs (versions
// spread over 3 sequence numbers), an attestation result (one in 20
// warning, one in 50 never appraised), one in 10 with a last error (of 5
// texts), one in 100 never seen, and 2 reports, in one transaction:
// AddDevice's one commit (fsync) per device would take minutes at this
// size. The version counts are filled as the migration fills them.
func fillFleet(ctx context.Context, s *Store, n int) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		dev, err := tx.PrepareContext(ctx, `INSERT INTO devices (`+deviceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer dev.Close() //nolint:errcheck // the transaction's commit reports what matters
		rep, err := tx.PrepareContext(ctx, `INSERT INTO reports (device, time, success, envelopes, suit_reports, err_code, err_msg) VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer rep.Close() //nolint:errcheck // as above
		for i := range n {
			d := fleetDevice(i)
			if _, err := dev.ExecContext(ctx, d.ID, d.Name, d.AgentKey, blobCol(d.AgreementKey), blobCol(d.Endorsement), blobCol(d.Reference), timeCol(d.Registered),
				timeCol(d.LastSeen), timeCol(d.Attestation.Time), d.Attestation.Status, blobCol(d.Attestation.EAR), d.Attestation.Reason, tcsCol(d.TCs), d.LastError); err != nil {
				return err
			}
			for j := range 2 {
				if _, err := rep.ExecContext(ctx, d.ID, timeCol(benchT0.Add(time.Duration(j)*time.Minute)), j == 1,
					bytesListCol([][]byte{make([]byte, 32)}), bytesListCol(nil), int64(0), ""); err != nil {
					return err
				}
			}
		}
		return fillVersionCounts(ctx, tx)
	})
}

// fleetDevice is the i-th device of the benchmark's fleet.
func fleetDevice(i int) store.Device {
	tcs := make([]store.InstalledTC, 4)
	for j := range tcs {
		tcs[j] = store.InstalledTC{Component: suit.ComponentID{[]byte("TA"), []byte("acme"), []byte(strconv.Itoa(j))}, SequenceNumber: uint64(j + i%3), Digest: make([]byte, 36)}
	}
	d := store.Device{ID: fleetID(i), Name: "device " + strconv.Itoa(i), AgentKey: make([]byte, 91), Endorsement: make([]byte, 600),
		Registered: benchT0, LastSeen: benchT0.Add(time.Hour), TCs: tcs,
		Attestation: store.Attestation{Time: benchT0.Add(time.Hour), Status: "affirming", EAR: make([]byte, 700)}}
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
	return list(ctx, s.r, scanDevice, `SELECT `+deviceCols+` FROM devices ORDER BY id`)
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

// Issue 15's scale: a store of 100,000 devices, filled once. ReadEveryDevice
// is what the status API and the fleet page read before FleetStatus (the
// baseline); FleetStatus is what they read now for their first page
// (FleetSummary, DevicePage of 100, LastReports of that page); DevicePage
// is a device's page (Device and its last reports).
func BenchmarkFleet100000(b *testing.B) {
	s := benchStore(b)
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
