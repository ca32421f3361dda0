package postgres

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// How values are kept in columns; see migrations/0001_init.sql.

// zeroTime is the column value of the zero time.Time, which UnixNano
// cannot express; store.Validate refuses the one real time it stands for.
const zeroTime = math.MinInt64

func timeCol(t time.Time) int64 {
	if t.IsZero() {
		return zeroTime
	}
	return t.UnixNano()
}

func colTime(n int64) time.Time {
	if n == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// seqCol keeps a uint64 in a BIGINT with its order: the top bit flipped
// maps 0 to the smallest BIGINT and 2^64-1 to the largest.
func seqCol(n uint64) int64 { return int64(n ^ (1 << 63)) }

func colSeq(n int64) uint64 { return uint64(n) ^ (1 << 63) }

// A list field is one JSONB column: NULL for a nil list, else the JSON of
// its items, each byte string base64 (null for nil, "" for empty), so that
// nil and empty survive at every level.

// listCol is the column value of a list: nil (NULL) for a nil list.
func listCol[T any](l []T) ([]byte, error) {
	if l == nil {
		return nil, nil
	}
	b, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("postgres: encode list: %w", err)
	}
	return b, nil
}

func colList[T any](b []byte) ([]T, error) {
	if b == nil {
		return nil, nil
	}
	var l []T
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("postgres: corrupt list column: %w", err)
	}
	if l == nil {
		return nil, fmt.Errorf("postgres: corrupt list column: %s", b)
	}
	return l, nil
}

// componentJSON is a component identifier as a list of byte strings.
type componentJSON [][]byte

func componentsCol(cs []suit.ComponentID) ([]byte, error) {
	if cs == nil {
		return nil, nil
	}
	l := make([]componentJSON, len(cs))
	for i, c := range cs {
		l[i] = componentJSON(c)
	}
	return listCol(l)
}

func colComponents(b []byte) ([]suit.ComponentID, error) {
	l, err := colList[componentJSON](b)
	if l == nil || err != nil {
		return nil, err
	}
	cs := make([]suit.ComponentID, len(l))
	for i, c := range l {
		cs[i] = suit.ComponentID(c)
	}
	return cs, nil
}

// tcJSON is one installed TC.
type tcJSON struct {
	Component [][]byte `json:"c"`
	Seq       uint64   `json:"s"`
	Digest    []byte   `json:"d"`
}

func tcsCol(tcs []store.InstalledTC) ([]byte, error) {
	if tcs == nil {
		return nil, nil
	}
	l := make([]tcJSON, len(tcs))
	for i, tc := range tcs {
		l[i] = tcJSON{Component: tc.Component, Seq: tc.SequenceNumber, Digest: tc.Digest}
	}
	return listCol(l)
}

func colTCs(b []byte) ([]store.InstalledTC, error) {
	l, err := colList[tcJSON](b)
	if l == nil || err != nil {
		return nil, err
	}
	tcs := make([]store.InstalledTC, len(l))
	for i, tc := range l {
		tcs[i] = store.InstalledTC{Component: tc.Component, SequenceNumber: tc.Seq, Digest: tc.Digest}
	}
	return tcs, nil
}

// componentKey is the column value a component identifier is found by:
// each part as a 4-byte big-endian length and its bytes, so that two
// identifiers have the same key exactly when they are Equal.
func componentKey(c suit.ComponentID) []byte {
	var k []byte
	for _, p := range c {
		k = binary.BigEndian.AppendUint32(k, uint32(len(p)))
		k = append(k, p...)
	}
	return k
}

// nonNil makes an empty byte string an empty BYTEA rather than NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// The SQLSTATE codes the store maps to its errors.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

// constraint maps a constraint failure to the store's errors: a key taken
// to ErrExists, a missing referenced record to ErrNotFound.
func constraint(err error, what string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case uniqueViolation:
			return fmt.Errorf("%s: %w", what, store.ErrExists)
		case foreignKeyViolation:
			return fmt.Errorf("%s: %w", what, store.ErrNotFound)
		}
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// retryable is a failure of a transaction that a new attempt may not meet:
// a serialization failure or a deadlock another transaction caused.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == serializationFailure || pe.Code == deadlockDetected)
}
