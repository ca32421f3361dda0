package postgres

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// The version counts (migrations/0004_fleet_status.sql): every change of a
// device's tc-list goes through recordTCs or AddDevice, which move the
// device between version_counts in the same transaction.

// recordTCs replaces the tc-list and last-seen time of device id in tx and
// moves the device's counts; ErrNotFound when no device has that id. Any
// write of devices.tcs must go through it (RecordTCs and any method that
// records a tc-list within a larger transaction).
func recordTCs(ctx context.Context, tx pgx.Tx, id string, tcs []store.InstalledTC, seen time.Time) error {
	col, err := tcsCol(tcs)
	if err != nil {
		return err
	}
	var b []byte
	err = tx.QueryRow(ctx, `SELECT tcs FROM devices WHERE id = $1 FOR UPDATE`, id).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("record tc-list: device %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: record tc-list of %q: %w", id, err)
	}
	old, err := colTCs(b)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE devices SET tcs = $1, last_seen = $2 WHERE id = $3`, col, timeCol(seen), id); err != nil {
		return fmt.Errorf("postgres: record tc-list of %q: %w", id, err)
	}
	return countVersions(ctx, tx, old, tcs)
}

// version is one (component, sequence number) of a tc-list.
type version struct {
	hash      [sha256.Size]byte // of the component's key
	seq       uint64
	key       []byte
	component suit.ComponentID
}

func compareVersions(a, b version) int {
	return cmp.Or(bytes.Compare(a.hash[:], b.hash[:]), cmp.Compare(a.seq, b.seq))
}

// versionsOf is the distinct versions of a tc-list, in key order: a
// version listed twice is one device's once.
func versionsOf(tcs []store.InstalledTC) []version {
	vs := make([]version, 0, len(tcs))
	for _, tc := range tcs {
		k := componentKey(tc.Component)
		vs = append(vs, version{hash: sha256.Sum256(k), seq: tc.SequenceNumber, key: k, component: tc.Component})
	}
	slices.SortFunc(vs, compareVersions)
	return slices.CompactFunc(vs, func(a, b version) bool { return compareVersions(a, b) == 0 })
}

// countVersions moves one device from the versions of old to those of
// tcs, taking the rows in key order (two transactions never wait for each
// other in a cycle); a tc-list reported again unchanged writes nothing.
func countVersions(ctx context.Context, tx pgx.Tx, old, tcs []store.InstalledTC) error {
	was, is := versionsOf(old), versionsOf(tcs)
	i, j := 0, 0
	for i < len(was) || j < len(is) {
		var err error
		switch c := compareDiff(was, is, i, j); {
		case c == 0: // kept
			i, j = i+1, j+1
		case c < 0: // gone
			err = addVersion(ctx, tx, was[i], -1)
			i++
		default: // came
			err = addVersion(ctx, tx, is[j], 1)
			j++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// compareDiff compares was[i] and is[j], an exhausted side last.
func compareDiff(was, is []version, i, j int) int {
	switch {
	case i == len(was):
		return 1
	case j == len(is):
		return -1
	}
	return compareVersions(was[i], is[j])
}

// addVersion adds n devices to the count of v, deleting it at 0.
func addVersion(ctx context.Context, tx pgx.Tx, v version, n int) error {
	_, err := tx.Exec(ctx, `INSERT INTO version_counts AS c (component_hash, seq, component, name, devices) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (component_hash, seq) DO UPDATE SET devices = c.devices + excluded.devices`, v.hash[:], seqCol(v.seq), v.key, v.component.String(), n)
	if err == nil && n < 0 {
		_, err = tx.Exec(ctx, `DELETE FROM version_counts WHERE component_hash = $1 AND seq = $2 AND devices <= 0`, v.hash[:], seqCol(v.seq))
	}
	if err != nil {
		return fmt.Errorf("postgres: count versions: %w", err)
	}
	return nil
}

// fillVersionCounts is migration fleet_status's Go step: it counts the
// tc-lists stored before it.
func fillVersionCounts(ctx context.Context, tx pgx.Tx) error {
	lists, err := list(ctx, tx, func(sc scanner) ([]store.InstalledTC, error) {
		var b []byte
		if err := sc.Scan(&b); err != nil {
			return nil, err
		}
		return colTCs(b)
	}, `SELECT tcs FROM devices`)
	if err != nil {
		return fmt.Errorf("count stored tc-lists: %w", err)
	}
	var all []version
	n := map[[sha256.Size]byte]map[uint64]int{}
	for _, tcs := range lists {
		for _, v := range versionsOf(tcs) {
			if n[v.hash] == nil {
				n[v.hash] = map[uint64]int{}
			}
			if n[v.hash][v.seq] == 0 {
				all = append(all, v)
			}
			n[v.hash][v.seq]++
		}
	}
	for _, v := range all {
		if err := addVersion(ctx, tx, v, n[v.hash][v.seq]); err != nil {
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
			return nil, fmt.Errorf("postgres: corrupt component key")
		}
		n := binary.BigEndian.Uint32(k)
		c = append(c, append([]byte{}, k[4:4+n]...))
		k = k[4+n:]
	}
	return c, nil
}
