package storage

import "github.com/fxamacker/cbor/v2"

// The state is the store's own writing, authenticated before it is
// decoded; the decoder is bounded all the same.
var (
	encMode = func() cbor.EncMode {
		em, err := cbor.CoreDetEncOptions().EncMode()
		if err != nil {
			panic(err)
		}
		return em
	}()
	decMode = func() cbor.DecMode {
		dm, err := cbor.DecOptions{
			DupMapKey:         cbor.DupMapKeyEnforcedAPF,
			IndefLength:       cbor.IndefLengthForbidden,
			TagsMd:            cbor.TagsForbidden,
			MaxNestedLevels:   maxNestedLevels,
			MaxArrayElements:  maxArrayElements,
			MaxMapPairs:       maxMapPairs,
			ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		}.DecMode()
		if err != nil {
			panic(err)
		}
		return dm
	}()
)

func encode(s state) ([]byte, error) { return encMode.Marshal(s) }

func decode(b []byte, s *state) error { return decMode.Unmarshal(b, s) }
