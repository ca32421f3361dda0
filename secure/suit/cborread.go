package suit

import (
	"unicode/utf8"
)

// reader is the package's one strict CBOR decoder: a cursor over an
// encoded item that reads exactly the types the format has, where it has
// them. It refuses indefinite lengths, reserved additional information,
// tags other than those a caller asks for, floats and simple values other
// than false, true and null, lengths past the end of the input, and counts
// past the bounds in limits.go. Nothing is decoded by reflection, so the
// decoder costs little next to the signature check.
type reader struct {
	data []byte
	off  int
}

const (
	majorUint = iota
	majorNint
	majorBytes
	majorText
	majorArray
	majorMap
	majorTag
	majorSimple
)

func newReader(data []byte) *reader { return &reader{data: data} }

func (r *reader) errf(format string, args ...any) error {
	return malformed("at byte %d: "+format, append([]any{r.off}, args...)...)
}

// done reports an error unless the whole input was read.
func (r *reader) done() error {
	if r.off != len(r.data) {
		return r.errf("%d bytes after the data item", len(r.data)-r.off)
	}
	return nil
}

func (r *reader) peek() (major byte, ok bool) {
	if r.off >= len(r.data) {
		return 0, false
	}
	return r.data[r.off] >> 5, true
}

// head reads an item head of a definite length.
func (r *reader) head() (byte, uint64, error) {
	if r.off >= len(r.data) {
		return 0, 0, r.errf("unexpected end of input")
	}
	b := r.data[r.off]
	major, info := b>>5, b&0x1f
	switch {
	case info < 24:
		r.off++
		return major, uint64(info), nil
	case info <= 27:
		n := 1 << (info - 24)
		if len(r.data)-r.off-1 < n {
			return 0, 0, r.errf("truncated head")
		}
		var v uint64
		for _, c := range r.data[r.off+1 : r.off+1+n] {
			v = v<<8 | uint64(c)
		}
		r.off += 1 + n
		return major, v, nil
	case info == 31:
		return 0, 0, r.errf("indefinite length")
	}
	return 0, 0, r.errf("reserved additional information %d", info)
}

func (r *reader) expect(want byte, what string) (uint64, error) {
	start := r.off
	major, arg, err := r.head()
	if err != nil {
		return 0, err
	}
	if major != want {
		r.off = start
		return 0, r.errf("want %s, have major type %d", what, major)
	}
	return arg, nil
}

func (r *reader) uint() (uint64, error) { return r.expect(majorUint, "an unsigned integer") }

func (r *reader) int() (int64, error) {
	start := r.off
	major, arg, err := r.head()
	if err != nil {
		return 0, err
	}
	if (major != majorUint && major != majorNint) || arg > 1<<63-1 {
		r.off = start
		return 0, r.errf("want an integer in int64 range")
	}
	if major == majorNint {
		return -1 - int64(arg), nil
	}
	return int64(arg), nil
}

func (r *reader) span(n uint64) ([]byte, error) {
	if n > uint64(len(r.data)-r.off) {
		return nil, r.errf("length %d past the end of input", n)
	}
	b := r.data[r.off : r.off+int(n)]
	r.off += int(n)
	return b, nil
}

// bytes reads a byte string; the result aliases the input.
func (r *reader) bytes() ([]byte, error) {
	n, err := r.expect(majorBytes, "a byte string")
	if err != nil {
		return nil, err
	}
	return r.span(n)
}

func (r *reader) text() (string, error) {
	n, err := r.expect(majorText, "a text string")
	if err != nil {
		return "", err
	}
	b, err := r.span(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", r.errf("invalid UTF-8")
	}
	return string(b), nil
}

// array reads an array head; every element takes at least one byte, so a
// count past the remaining input is refused before anything is allocated.
func (r *reader) array(limit int) (int, error) {
	n, err := r.expect(majorArray, "an array")
	if err != nil {
		return 0, err
	}
	if n > uint64(limit) || n > uint64(len(r.data)-r.off) {
		return 0, r.errf("array of %d elements", n)
	}
	return int(n), nil
}

func (r *reader) mapHead() (int, error) {
	n, err := r.expect(majorMap, "a map")
	if err != nil {
		return 0, err
	}
	if n > maxMapPairs || 2*n > uint64(len(r.data)-r.off) {
		return 0, r.errf("map of %d pairs", n)
	}
	return int(n), nil
}

// tag consumes the head of tag number want if the next item has it.
func (r *reader) tag(want uint64) (bool, error) {
	if m, ok := r.peek(); !ok || m != majorTag {
		return false, nil
	}
	start := r.off
	_, n, err := r.head()
	if err != nil {
		return false, err
	}
	if n != want {
		r.off = start
		return false, r.errf("unexpected tag %d", n)
	}
	return true, nil
}

func (r *reader) bool() (bool, error) {
	if r.off < len(r.data) {
		switch r.data[r.off] {
		case 0xf4:
			r.off++
			return false, nil
		case 0xf5:
			r.off++
			return true, nil
		}
	}
	return false, r.errf("want a boolean")
}

// null consumes a null if it is next.
func (r *reader) null() bool {
	if r.off < len(r.data) && r.data[r.off] == 0xf6 {
		r.off++
		return true
	}
	return false
}

// skip reads past one well-formed item with no tags, nested at most depth
// levels, and returns its encoding.
func (r *reader) skip(depth int) ([]byte, error) { return r.skipItem(depth, false) }

// skipAny is skip with tags allowed anywhere: what opaque metadata that
// other specifications define (a CoSWID) may hold. Floats and simple
// values other than false, true and null are still refused.
func (r *reader) skipAny(depth int) error {
	_, err := r.skipItem(depth, true)
	return err
}

func (r *reader) skipItem(depth int, tags bool) ([]byte, error) {
	if depth == 0 {
		return nil, r.errf("nested too deeply")
	}
	start := r.off
	major, arg, err := r.head()
	if err != nil {
		return nil, err
	}
	switch major {
	case majorUint, majorNint:
	case majorBytes, majorText:
		if _, err := r.span(arg); err != nil {
			return nil, err
		}
	case majorArray, majorMap:
		items := arg
		if major == majorMap {
			items *= 2
		}
		if items > uint64(len(r.data)-r.off) {
			return nil, r.errf("container of %d items", arg)
		}
		for range items {
			if _, err := r.skipItem(depth-1, tags); err != nil {
				return nil, err
			}
		}
	case majorTag:
		if !tags {
			return nil, r.errf("unexpected tag %d", arg)
		}
		if _, err := r.skipItem(depth-1, tags); err != nil {
			return nil, err
		}
	default:
		if arg != 20 && arg != 21 && arg != 22 { // false, true, null
			return nil, r.errf("unsupported simple value or float")
		}
		if r.data[start]&0x1f >= 24 {
			return nil, r.errf("unsupported simple value or float")
		}
	}
	return r.data[start:r.off], nil
}

// keySet refuses duplicate integer map keys. The keys SUIT defines are
// small, so a bitmask holds them without allocating.
type keySet struct {
	small uint64
	large []int64
}

func (s *keySet) add(r *reader, k int64) error {
	if k >= 0 && k < 64 {
		if s.small&(1<<k) != 0 {
			return r.errf("duplicate map key %d", k)
		}
		s.small |= 1 << k
		return nil
	}
	for _, seen := range s.large {
		if seen == k {
			return r.errf("duplicate map key %d", k)
		}
	}
	s.large = append(s.large, k)
	return nil
}

func (s *keySet) contains(k int64) bool {
	if k >= 0 && k < 64 {
		return s.small&(1<<k) != 0
	}
	for _, seen := range s.large {
		if seen == k {
			return true
		}
	}
	return false
}
