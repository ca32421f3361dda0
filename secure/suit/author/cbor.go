package author

import "github.com/fxamacker/cbor/v2"

// The suit-common members the builder writes (draft-ietf-suit-manifest-37
// §8.4.5); package suit reads them.
const (
	keyComponents     = 2
	keySharedSequence = 4
)

// encMode encodes with the core deterministic options, as package suit
// does, so that what an author writes is canonical and its digests are
// the ones a device recomputes.
var encMode = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// mustMarshal encodes values the builder made itself: maps and slices of
// integers, byte strings and text, which always encode.
func mustMarshal(v any) []byte {
	out, err := encMode.Marshal(v)
	if err != nil {
		panic(err)
	}
	return out
}

// bstrEncoding is the CBOR encoding of b as a byte string: the bytes that
// SUIT digests cover (the bstr header included).
func bstrEncoding(b []byte) []byte {
	return mustMarshal(b)
}
