package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// AddDevice registers d with every field as given; ErrExists when its ID
// is taken.
func (s *Store) AddDevice(ctx context.Context, d store.Device) error {
	if err := d.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO devices (`+deviceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.Name, d.AgentKey, blobCol(d.AgreementKey), blobCol(d.Endorsement), blobCol(d.Reference), timeCol(d.Registered), timeCol(d.LastSeen),
			timeCol(d.Attestation.Time), d.Attestation.Status, blobCol(d.Attestation.EAR), d.Attestation.Reason, tcsCol(d.TCs), d.LastError)
		if err != nil {
			return constraint(err, "add device "+d.ID)
		}
		return countVersions(ctx, tx, nil, d.TCs)
	})
}

const deviceCols = `id, name, agent_key, agreement_key, endorsement, reference, registered, last_seen, att_time, att_status, att_ear, att_reason, tcs, last_error`

func scanDevice(sc interface{ Scan(...any) error }) (store.Device, error) {
	var (
		d                           store.Device
		registered, lastSeen, attAt int64
	)
	if err := sc.Scan(&d.ID, &d.Name, colBlob{&d.AgentKey}, colBlob{&d.AgreementKey}, colBlob{&d.Endorsement}, colBlob{&d.Reference}, &registered, &lastSeen,
		&attAt, &d.Attestation.Status, colBlob{&d.Attestation.EAR}, &d.Attestation.Reason, colTCs(&d.TCs), &d.LastError); err != nil {
		return store.Device{}, err
	}
	d.Registered, d.LastSeen, d.Attestation.Time = colTime(registered), colTime(lastSeen), colTime(attAt)
	return d, nil
}

// Device is the device registered under id.
func (s *Store) Device(ctx context.Context, id string) (store.Device, error) {
	d, err := scanDevice(s.r.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Device{}, fmt.Errorf("device %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("sqlite: device %q: %w", id, err)
	}
	return d, nil
}

// The statements of the Record methods, shared with RecordAnswer.
const (
	recordAttestationSQL = `UPDATE devices SET att_time = ?, att_status = ?, att_ear = ?, att_reason = ? WHERE id = ?`
	recordErrorSQL       = `UPDATE devices SET last_error = ? WHERE id = ?`
)

// RecordTCs replaces the device's tc-list and its last-seen time.
func (s *Store) RecordTCs(ctx context.Context, id string, tcs []store.InstalledTC, seen time.Time) error {
	if err := errors.Join(store.ValidateTCs(tcs), store.ValidTime("last seen", seen)); err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error { return recordTCs(ctx, tx, id, tcs, seen) })
}

// RecordAttestation replaces the device's last appraisal.
func (s *Store) RecordAttestation(ctx context.Context, id string, a store.Attestation) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return s.updateDevice(ctx, id, "record attestation", recordAttestationSQL,
		timeCol(a.Time), a.Status, blobCol(a.EAR), a.Reason, id)
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
	return s.write(ctx, func(tx *sql.Tx) error { return updateDevice(ctx, tx, id, what, query, args...) })
}

// updateDevice is Store.updateDevice's UPDATE in tx.
func updateDevice(ctx context.Context, tx *sql.Tx, id, what, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %s of %q: %w", what, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %s of %q: %w", what, id, err)
	} else if n == 0 {
		return fmt.Errorf("%s: device %q: %w", what, id, store.ErrNotFound)
	}
	return nil
}
