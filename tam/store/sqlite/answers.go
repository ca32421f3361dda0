package sqlite

import (
	"context"
	"database/sql"

	"github.com/teeup/teeup/tam/store"
)

// RecordAnswer stores a.Session, if the stored one is in state a.From and
// not expired at a.Now, with every change a holds, in one IMMEDIATE
// transaction: all of it is on disk when it returns, or none of it.
func (s *Store) RecordAnswer(ctx context.Context, a store.Answer) error {
	if err := a.Validate(); err != nil {
		return err
	}
	dev := a.Session.Device
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := advanceSession(ctx, tx, a.Session, a.From, a.Now); err != nil {
			return err
		}
		if a.RecordTCs {
			if err := recordTCs(ctx, tx, dev, a.TCs, a.Now); err != nil {
				return err
			}
		}
		if at := a.Attestation; at != nil {
			if err := updateDevice(ctx, tx, dev, "record attestation", recordAttestationSQL,
				timeCol(at.Time), at.Status, blobCol(at.EAR), at.Reason, dev); err != nil {
				return err
			}
		}
		if a.LastError != nil {
			if err := updateDevice(ctx, tx, dev, "record error", recordErrorSQL, *a.LastError, dev); err != nil {
				return err
			}
		}
		if a.Report != nil {
			if err := addReport(ctx, tx, *a.Report); err != nil {
				return err
			}
		}
		if a.End != nil {
			if err := logSession(ctx, tx, a.End.Record(a.Session, a.Now)); err != nil {
				return err
			}
		}
		for _, m := range a.Deliveries {
			// A delivery another session or replica moved first keeps
			// its state: its outcome was recorded there.
			if _, err := moveDelivery(ctx, tx, m.Next, m.From, m.Token); err != nil {
				return err
			}
		}
		return nil
	})
}
