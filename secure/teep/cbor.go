package teep

import (
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// decMode is the one strict decode mode of the package: duplicate map keys,
// indefinite lengths and invalid UTF-8 refused, nesting and counts bounded
// by limits.go. Unmarshal refuses trailing bytes.
var decMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		MaxNestedLevels:  MaxNesting,
		MaxArrayElements: MaxArrayElements,
		MaxMapPairs:      MaxMapPairs,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// encMode encodes deterministically (RFC 8949 §4.2.1 core deterministic:
// shortest forms, map keys sorted by their encoding).
var encMode = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// cborError classifies an error of the cbor library: a limit reached is
// ErrLimit, anything else ErrMalformed.
func cborError(what string, err error) error {
	var nest *cbor.MaxNestedLevelError
	var arr *cbor.MaxArrayElementsError
	var pairs *cbor.MaxMapPairsError
	if errors.As(err, &nest) || errors.As(err, &arr) || errors.As(err, &pairs) {
		return fmt.Errorf("%w: %s: %w", ErrLimit, what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
}

// major is the major type of the encoded item raw (majorOther when empty).
func major(raw []byte) byte {
	if len(raw) == 0 {
		return majorOther
	}
	return raw[0] >> 5
}

func expect(raw []byte, m byte, what string) error {
	if major(raw) != m {
		return malformed("%s: major type %d, want %d", what, major(raw), m)
	}
	return nil
}

func readBytes(raw []byte, minLen, maxLen int, what string) ([]byte, error) {
	if err := expect(raw, majorBytes, what); err != nil {
		return nil, err
	}
	var b []byte
	if err := decMode.Unmarshal(raw, &b); err != nil {
		return nil, cborError(what, err)
	}
	if len(b) < minLen || len(b) > maxLen {
		return nil, wrapf(ErrFieldSize, "%s of %d bytes, want %d..%d", what, len(b), minLen, maxLen)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

func readText(raw []byte, minLen, maxLen int, what string) (string, error) {
	if err := expect(raw, majorText, what); err != nil {
		return "", err
	}
	var s string
	if err := decMode.Unmarshal(raw, &s); err != nil {
		return "", cborError(what, err)
	}
	if len(s) < minLen || len(s) > maxLen {
		return "", wrapf(ErrFieldSize, "%s of %d bytes, want %d..%d", what, len(s), minLen, maxLen)
	}
	return s, nil
}

func readUint(raw []byte, what string) (uint64, error) {
	if err := expect(raw, majorUint, what); err != nil {
		return 0, err
	}
	var v uint64
	if err := decMode.Unmarshal(raw, &v); err != nil {
		return 0, cborError(what, err)
	}
	return v, nil
}

func readInt(raw []byte, what string) (int64, error) {
	if m := major(raw); m != majorUint && m != majorNeg {
		return 0, malformed("%s: major type %d, want an integer", what, m)
	}
	var v int64
	if err := decMode.Unmarshal(raw, &v); err != nil {
		return 0, cborError(what, err)
	}
	return v, nil
}

// readArray reads an array of at most maxLen items, each kept encoded. An
// empty array gives a non-nil empty slice.
func readArray(raw []byte, maxLen int, what string) ([]cbor.RawMessage, error) {
	if err := expect(raw, majorArray, what); err != nil {
		return nil, err
	}
	var items []cbor.RawMessage
	if err := decMode.Unmarshal(raw, &items); err != nil {
		return nil, cborError(what, err)
	}
	if len(items) > maxLen {
		return nil, wrapf(ErrLimit, "%s of %d items, at most %d", what, len(items), maxLen)
	}
	if items == nil {
		items = []cbor.RawMessage{}
	}
	return items, nil
}

// readUintMap reads a map whose keys are all unsigned integers (major type
// 0: a simple value, tag or float that a lenient decoder would turn into an
// integer is refused).
func readUintMap(raw []byte, what string) (map[uint64]cbor.RawMessage, error) {
	if err := expect(raw, majorMap, what); err != nil {
		return nil, err
	}
	var generic map[any]cbor.RawMessage
	if err := decMode.Unmarshal(raw, &generic); err != nil {
		return nil, cborError(what, err)
	}
	m := make(map[uint64]cbor.RawMessage, len(generic))
	for k, v := range generic {
		l, ok := k.(uint64)
		if !ok {
			return nil, malformed("%s: a key of type %T", what, k)
		}
		m[l] = v
	}
	return m, nil
}

func readUintList(raw []byte, maxLen int, what string) ([]uint64, error) {
	items, err := readArray(raw, maxLen, what)
	if err != nil {
		return nil, err
	}
	out := make([]uint64, len(items))
	for i, it := range items {
		if out[i], err = readUint(it, what); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readCBORBytesList reads a list of byte strings that each hold one
// well-formed CBOR item (bstr .cbor ...), such as suit-reports.
func readCBORBytesList(raw []byte, maxLen int, what string) ([][]byte, error) {
	items, err := readArray(raw, maxLen, what)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(items))
	for i, it := range items {
		if out[i], err = readBytes(it, 0, MaxMessageSize, what); err != nil {
			return nil, err
		}
		if err := decMode.Wellformed(out[i]); err != nil {
			return nil, cborError(what, err)
		}
	}
	return out, nil
}
