package sqlite

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/storetest"
)

// fillFleet registers n devices (storetest.FleetDevice), each with
// storetest.FleetReports reports, in one transaction: AddDevice's one
// commit (fsync) per device would take minutes at this size. The version
// counts are filled as the migration fills them.
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
			d := storetest.FleetDevice(i)
			if _, err := dev.ExecContext(ctx, d.ID, d.Name, d.AgentKey, blobCol(d.AgreementKey), blobCol(d.Endorsement), blobCol(d.Reference), timeCol(d.Registered),
				timeCol(d.LastSeen), timeCol(d.Attestation.Time), d.Attestation.Status, blobCol(d.Attestation.EAR), d.Attestation.Reason, tcsCol(d.TCs), d.LastError); err != nil {
				return err
			}
			for j := range storetest.FleetReports {
				if _, err := rep.ExecContext(ctx, d.ID, timeCol(storetest.FleetT0.Add(time.Duration(j)*time.Minute)), j == 1,
					bytesListCol([][]byte{make([]byte, 32)}), bytesListCol(nil), int64(0), ""); err != nil {
					return err
				}
			}
		}
		return fillVersionCounts(ctx, tx)
	})
}

// readEveryDevice is the baseline: the read the status API and the fleet
// page made before FleetStatus (the store's ListDevices, since removed),
// every device's row by ID.
func readEveryDevice(ctx context.Context, s *Store) ([]store.Device, error) {
	return list(ctx, s.r, scanDevice, `SELECT `+deviceCols+` FROM devices ORDER BY id`)
}

// BenchmarkFleet100000 is issue 15's scale (storetest.BenchFleet) on
// SQLite.
func BenchmarkFleet100000(b *testing.B) {
	s := benchStore(b)
	if err := fillFleet(b.Context(), s, storetest.FleetSize); err != nil {
		b.Fatal(err)
	}
	storetest.BenchFleet(b, s, func(ctx context.Context) ([]store.Device, error) { return readEveryDevice(ctx, s) })
}
