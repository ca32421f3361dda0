package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/tam/store"
)

// AddDevice registers d with every field as given; ErrExists when its ID
// is taken.
func (s *Store) AddDevice(ctx context.Context, d store.Device) error {
	if err := d.Validate(); err != nil {
		return err
	}
	tcs, err := tcsCol(d.TCs)
	if err != nil {
		return err
	}
	// The versions first: the attestation count the INSERT's trigger
	// takes comes after them, as in every transaction (versions.go).
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := countVersions(ctx, tx, nil, d.TCs); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO devices (`+deviceCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			d.ID, d.Name, d.AgentKey, d.AgreementKey, d.Endorsement, d.Reference, timeCol(d.Registered), timeCol(d.LastSeen),
			timeCol(d.Attestation.Time), d.Attestation.Status, d.Attestation.EAR, d.Attestation.Reason, tcs, d.LastError)
		if err != nil {
			return constraint(err, "add device "+d.ID)
		}
		return nil
	})
}

const deviceCols = `id, name, agent_key, agreement_key, endorsement, reference, registered, last_seen, att_time, att_status, att_ear, att_reason, tcs, last_error`

func scanDevice(sc scanner) (store.Device, error) {
	var (
		d                           store.Device
		registered, lastSeen, attAt int64
		tcs                         []byte
	)
	if err := sc.Scan(&d.ID, &d.Name, &d.AgentKey, &d.AgreementKey, &d.Endorsement, &d.Reference, &registered, &lastSeen,
		&attAt, &d.Attestation.Status, &d.Attestation.EAR, &d.Attestation.Reason, &tcs, &d.LastError); err != nil {
		return store.Device{}, err
	}
	l, err := colTCs(tcs)
	if err != nil {
		return store.Device{}, err
	}
	d.Registered, d.LastSeen, d.Attestation.Time, d.TCs = colTime(registered), colTime(lastSeen), colTime(attAt), l
	return d, nil
}

// Device is the device registered under id.
func (s *Store) Device(ctx context.Context, id string) (store.Device, error) {
	return one(ctx, s.pool, scanDevice, fmt.Sprintf("device %q", id), `SELECT `+deviceCols+` FROM devices WHERE id = $1`, id)
}

// The statements of the Record methods, shared with RecordAnswer (a
// tc-list is recorded by recordTCs, versions.go).
const (
	recordAttestationSQL = `UPDATE devices SET att_time = $1, att_status = $2, att_ear = $3, att_reason = $4 WHERE id = $5`
	recordErrorSQL       = `UPDATE devices SET last_error = $1 WHERE id = $2`
)

// RecordTCs replaces the device's tc-list and its last-seen time.
func (s *Store) RecordTCs(ctx context.Context, id string, tcs []store.InstalledTC, seen time.Time) error {
	if err := errors.Join(store.ValidateTCs(tcs), store.ValidTime("last seen", seen)); err != nil {
		return err
	}
	return s.write(ctx, func(tx pgx.Tx) error { return recordTCs(ctx, tx, id, tcs, seen) })
}

// RecordAttestation replaces the device's last appraisal.
func (s *Store) RecordAttestation(ctx context.Context, id string, a store.Attestation) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return s.updateDevice(ctx, id, "record attestation", recordAttestationSQL,
		timeCol(a.Time), a.Status, a.EAR, a.Reason, id)
}

// RecordError sets the device's last error; empty clears it.
func (s *Store) RecordError(ctx context.Context, id, msg string) error {
	if err := store.ValidText("device last error", msg, store.MaxText); err != nil {
		return err
	}
	return s.updateDevice(ctx, id, "record error", recordErrorSQL, msg, id)
}

// updateDevice runs one UPDATE of the device id; ErrNotFound when no
// device has that id.
func (s *Store) updateDevice(ctx context.Context, id, what, query string, args ...any) error {
	n, err := s.exec(ctx, fmt.Sprintf("%s of %q", what, id), query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s: device %q: %w", what, id, store.ErrNotFound)
	}
	return nil
}
