package suit

import (
	"bytes"

	"github.com/fxamacker/cbor/v2"
)

// The one strict decode mode of this package. Tags are forbidden in it:
// the few places where the format has a tag (the envelope, COSE blocks,
// cbor-pen vendor IDs) strip the one expected tag with untag before
// decoding the rest strictly, so an unexpected tag anywhere is refused.
var decMode = mustDecMode(cbor.TagsForbidden)

// outerDecMode allows tags, for splitting a command sequence or a
// parameter map into raw items. Every item taken from it is decoded again
// with decMode (after untag where a tag is allowed), so it never lets a tag
// through on its own.
var outerDecMode = mustDecMode(cbor.TagsAllowed)

var encMode = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

func mustDecMode(tags cbor.TagsMode) cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            tags,
		MaxNestedLevels:   maxNestedLevels,
		MaxArrayElements:  maxArrayElements,
		MaxMapPairs:       maxMapPairs,
		IntDec:            cbor.IntDecConvertSignedOrFail,
		UTF8:              cbor.UTF8RejectInvalid,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}

// decodeStrict decodes exactly one data item with the strict mode. The
// CBOR decoder turns null and undefined into a zero value (a nil slice, a
// zero sequence number); the format never uses them where a typed value is
// expected, so they are refused unless the target can hold them.
func decodeStrict(data []byte, v any) error {
	if len(data) > 0 && (data[0] == 0xf6 || data[0] == 0xf7) {
		switch v.(type) {
		case *any, *cbor.RawMessage:
		default:
			return malformed("null or undefined where a value is required")
		}
	}
	rest, err := decMode.UnmarshalFirst(data, v)
	if err != nil {
		return malformed("%v", err)
	}
	if len(rest) != 0 {
		return malformed("%d bytes after the data item", len(rest))
	}
	return nil
}

// decodeOuter splits one data item with the tag-tolerant mode; the caller
// must decode what it gets with decodeStrict.
func decodeOuter(data []byte, v any) error {
	rest, err := outerDecMode.UnmarshalFirst(data, v)
	if err != nil {
		return malformed("%v", err)
	}
	if len(rest) != 0 {
		return malformed("%d bytes after the data item", len(rest))
	}
	return nil
}

// untag strips the encoding of tag number tag from data. It reports false
// when data does not start with that tag.
func untag(data []byte, tag uint64) ([]byte, bool) {
	head := tagHead(tag)
	if !bytes.HasPrefix(data, head) {
		return data, false
	}
	return data[len(head):], true
}

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

// bstrEncoding is the CBOR encoding of b as a byte string: the bytes that
// SUIT digests cover (the bstr header included).
func bstrEncoding(b []byte) []byte {
	out, err := encMode.Marshal(b)
	if err != nil {
		panic(err) // a []byte always encodes
	}
	return out
}

func mustMarshal(v any) []byte {
	out, err := encMode.Marshal(v)
	if err != nil {
		panic(err)
	}
	return out
}
