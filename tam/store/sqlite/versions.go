package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// The version counts (migrations/0005_fleet_status.sql): every change of a
// device's tc-list goes through recordTCs or AddDevice, which move the
// device between version_counts in the same transaction.

// recordTCs replaces the tc-list and last-seen time of device id in tx and
// moves the device's counts; ErrNotFound when no device has that id. Any
// write of devices.tcs must go through it (RecordTCs and any method that
// records a tc-list within a larger transaction).
func recordTCs(ctx context.Context, tx *sql.Tx, id string, tcs []store.InstalledTC, seen time.Time) error {
	var old []store.InstalledTC
	err := tx.QueryRowContext(ctx, `SELECT tcs FROM devices WHERE id = ?`, id).Scan(colTCs(&old))
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("record tc-list: device %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: record tc-list of %q: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE devices SET tcs = ?, last_seen = ? WHERE id = ?`, tcsCol(tcs), timeCol(seen), id); err != nil {
		return fmt.Errorf("sqlite: record tc-list of %q: %w", id, err)
	}
	return countVersions(ctx, tx, old, tcs)
}

// version is one (component, sequence number) of a tc-list.
type version struct {
	key string // componentKey
	seq uint64
}

// versionsOf is the distinct versions of a tc-list, each with its
// component: a version listed twice is one device's once.
func versionsOf(tcs []store.InstalledTC) map[version]suit.ComponentID {
	vs := make(map[version]suit.ComponentID, len(tcs))
	for _, tc := range tcs {
		vs[version{string(componentKey(tc.Component)), tc.SequenceNumber}] = tc.Component
	}
	return vs
}

// countVersions moves one device from the versions of old to those of
// tcs; a tc-list reported again unchanged writes nothing.
func countVersions(ctx context.Context, tx *sql.Tx, old, tcs []store.InstalledTC) error {
	was, is := versionsOf(old), versionsOf(tcs)
	for v := range was {
		if _, kept := is[v]; kept {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE version_counts SET devices = devices - 1 WHERE component = ? AND seq = ?`, []byte(v.key), seqCol(v.seq)); err != nil {
			return fmt.Errorf("sqlite: count versions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM version_counts WHERE component = ? AND seq = ? AND devices <= 0`, []byte(v.key), seqCol(v.seq)); err != nil {
			return fmt.Errorf("sqlite: count versions: %w", err)
		}
	}
	for v, c := range is {
		if _, had := was[v]; had {
			continue
		}
		if err := addVersion(ctx, tx, v, c, 1); err != nil {
			return err
		}
	}
	return nil
}

func addVersion(ctx context.Context, tx *sql.Tx, v version, c suit.ComponentID, n int) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO version_counts (component, seq, name, devices) VALUES (?, ?, ?, ?)
		ON CONFLICT (component, seq) DO UPDATE SET devices = devices + excluded.devices`, []byte(v.key), seqCol(v.seq), c.String(), n)
	if err != nil {
		return fmt.Errorf("sqlite: count versions: %w", err)
	}
	return nil
}

// fillVersionCounts is migration fleet_status's Go step: it counts the
// tc-lists stored before it.
func fillVersionCounts(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT tcs FROM devices`)
	if err != nil {
		return fmt.Errorf("count stored tc-lists: %w", err)
	}
	defer rows.Close()
	n := map[version]int{}
	components := map[version]suit.ComponentID{}
	for rows.Next() {
		var tcs []store.InstalledTC
		if err := rows.Scan(colTCs(&tcs)); err != nil {
			return fmt.Errorf("count stored tc-lists: %w", err)
		}
		for v, c := range versionsOf(tcs) {
			n[v]++
			components[v] = c
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("count stored tc-lists: %w", err)
	}
	rows.Close()
	for v, k := range n {
		if err := addVersion(ctx, tx, v, components[v], k); err != nil {
			return err
		}
	}
	return nil
}

// colComponentKey reads a component identifier back from its key.
func colComponentKey(k []byte) (suit.ComponentID, error) {
	c := suit.ComponentID{}
	for len(k) > 0 {
		if len(k) < 4 || uint64(binary.BigEndian.Uint32(k)) > uint64(len(k)-4) {
			return nil, fmt.Errorf("sqlite: corrupt component key")
		}
		n := binary.BigEndian.Uint32(k)
		c = append(c, append([]byte{}, k[4:4+n]...))
		k = k[4+n:]
	}
	return c, nil
}
