package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// A list field (digests, component identifiers, a tc-list, roles) is one
// BLOB column: NULL for a nil list, else listFormat then the count and the
// items, each byte string as uvarint(len+1) and its bytes (0 for nil), so
// that nil and empty survive at every level. Decoding a status page of
// 10,000 devices is the hot path: this is several times cheaper than JSON.
const listFormat = 1

var errCorruptList = errors.New("sqlite: corrupt list column")

type listWriter struct{ b []byte }

func (w *listWriter) uvarint(n uint64) { w.b = binary.AppendUvarint(w.b, n) }

func (w *listWriter) bytes(p []byte) {
	if p == nil {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(len(p)) + 1)
	w.b = append(w.b, p...)
}

func (w *listWriter) component(c suit.ComponentID) {
	if c == nil {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(len(c)) + 1)
	for _, p := range c {
		w.bytes(p)
	}
}

// listReader reads what listWriter wrote; the first fault sticks in err
// and every later read returns zero values.
type listReader struct {
	b   []byte
	err error
}

func (r *listReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	n, k := binary.Uvarint(r.b)
	// Refuse padded encodings (a last byte of zero), so that one list has
	// one encoding.
	if k <= 0 || (k > 1 && r.b[k-1] == 0) {
		r.err = errCorruptList
		return 0
	}
	r.b = r.b[k:]
	return n
}

// count is a count of at most limit items, each taking at least one byte.
func (r *listReader) count(limit int) int {
	n := r.uvarint()
	if n > uint64(limit) || n > uint64(len(r.b)) {
		r.err = errCorruptList
		return 0
	}
	return int(n)
}

func (r *listReader) bytes() []byte {
	n := r.uvarint()
	if n == 0 || r.err != nil {
		return nil
	}
	n--
	if n > uint64(len(r.b)) {
		r.err = errCorruptList
		return nil
	}
	p := make([]byte, n)
	copy(p, r.b)
	r.b = r.b[n:]
	return p
}

func (r *listReader) component() suit.ComponentID {
	n := r.count(store.MaxComponentParts + 1)
	if n == 0 || r.err != nil {
		return nil
	}
	c := make(suit.ComponentID, n-1)
	for i := range c {
		c[i] = r.bytes()
	}
	return c
}

func encodeList[T any](l []T, write func(*listWriter, T)) any {
	if l == nil {
		return nil
	}
	w := listWriter{b: []byte{listFormat}}
	w.uvarint(uint64(len(l)))
	for _, v := range l {
		write(&w, v)
	}
	return w.b
}

func decodeList[T any](b []byte, read func(*listReader) T) ([]T, error) {
	if len(b) == 0 || b[0] != listFormat {
		return nil, errCorruptList
	}
	r := listReader{b: b[1:]}
	out := make([]T, r.count(store.MaxItems))
	for i := range out {
		out[i] = read(&r)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorruptList
	}
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}

// colList scans a list column into *p.
type colList[T any] struct {
	p    *[]T
	read func(*listReader) T
}

func (c colList[T]) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.p = nil
		return nil
	case []byte:
		l, err := decodeList(v, c.read)
		if err != nil {
			return fmt.Errorf("%w (%T)", err, *c.p)
		}
		*c.p = l
		return nil
	default:
		return fmt.Errorf("sqlite: %T in a list column", src)
	}
}

// The list fields, as column values and as scanners.

func bytesListCol(l [][]byte) any {
	return encodeList(l, (*listWriter).bytes)
}

func colBytesList(p *[][]byte) colList[[]byte] {
	return colList[[]byte]{p, (*listReader).bytes}
}

func componentsCol(l []suit.ComponentID) any {
	return encodeList(l, (*listWriter).component)
}

func colComponents(p *[]suit.ComponentID) colList[suit.ComponentID] {
	return colList[suit.ComponentID]{p, (*listReader).component}
}

func tcsCol(l []store.InstalledTC) any {
	return encodeList(l, func(w *listWriter, tc store.InstalledTC) {
		w.component(tc.Component)
		w.uvarint(tc.SequenceNumber)
		w.bytes(tc.Digest)
	})
}

func colTCs(p *[]store.InstalledTC) colList[store.InstalledTC] {
	return colList[store.InstalledTC]{p, func(r *listReader) store.InstalledTC {
		return store.InstalledTC{Component: r.component(), SequenceNumber: r.uvarint(), Digest: r.bytes()}
	}}
}

func rolesCol(l []store.Role) any {
	return encodeList(l, func(w *listWriter, r store.Role) { w.bytes([]byte(r)) })
}

func colRoles(p *[]store.Role) colList[store.Role] {
	return colList[store.Role]{p, func(r *listReader) store.Role { return store.Role(r.bytes()) }}
}
