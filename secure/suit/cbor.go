package suit

import "github.com/fxamacker/cbor/v2"

// Decoding is reader's (cborread.go); fxamacker/cbor only encodes, with
// the core deterministic options, so that what this package writes is
// canonical.
var encMode = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// tagHead is the shortest encoding of a tag head, as deterministic CBOR
// requires; a longer encoding of the same tag is refused as unexpected.
func tagHead(tag uint64) []byte {
	switch {
	case tag < 24:
		return []byte{0xc0 | byte(tag)}
	case tag < 256:
		return []byte{0xd8, byte(tag)}
	default:
		return []byte{0xd9, byte(tag >> 8), byte(tag)}
	}
}

// bstrHead is the head of a byte string of n bytes, shortest form.
func bstrHead(n int) []byte {
	switch {
	case n < 24:
		return []byte{0x40 | byte(n)}
	case n < 1<<8:
		return []byte{0x58, byte(n)}
	case n < 1<<16:
		return []byte{0x59, byte(n >> 8), byte(n)}
	case n < 1<<32:
		return []byte{0x5a, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	}
	u := uint64(n)
	return []byte{0x5b, byte(u >> 56), byte(u >> 48), byte(u >> 40), byte(u >> 32), byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}
}

// bstrEncoding is the CBOR encoding of b as a byte string: the bytes that
// SUIT digests cover (the bstr header included).
func bstrEncoding(b []byte) []byte {
	return append(bstrHead(len(b)), b...)
}

func mustMarshal(v any) []byte {
	out, err := encMode.Marshal(v)
	if err != nil {
		panic(err)
	}
	return out
}
