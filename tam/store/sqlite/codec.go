package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

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

// seqCol keeps a uint64 in a signed INTEGER with its order: the top bit
// flipped maps 0 to the smallest INTEGER and 2^64-1 to the largest.
func seqCol(n uint64) int64 { return int64(n ^ (1 << 63)) }

func colSeq(n int64) uint64 { return uint64(n) ^ (1 << 63) }

// blobCol keeps nil as NULL and an empty slice as an empty BLOB.
func blobCol(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// colBlob scans a BLOB column into *p, NULL as nil and an empty BLOB as a
// non-nil empty slice (the driver hands both over as nil []byte otherwise).
type colBlob struct{ p *[]byte }

func (c colBlob) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.p = nil
	case []byte:
		*c.p = append(make([]byte, 0, len(v)), v...)
	case string:
		*c.p = []byte(v)
	default:
		return fmt.Errorf("sqlite: %T in a BLOB column", src)
	}
	return nil
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

// constraint maps a constraint failure of SQLite to the store's errors:
// a key taken to ErrExists, a missing referenced record to ErrNotFound.
func constraint(err error, what string) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%s: %w", what, store.ErrExists)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%s: %w", what, store.ErrNotFound)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}
