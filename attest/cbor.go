package attest

import "github.com/fxamacker/cbor/v2"

// The one strict decode mode of the package: no duplicate keys, no
// indefinite lengths, no fields a wire type does not declare, nesting
// and counts bounded. Tags are allowed only because the EAT's nested
// types may carry them (a COSE_Sign1 is tag 18); the types that decode
// them say which.
var (
	decMode = func() cbor.DecMode {
		dm, err := cbor.DecOptions{
			DupMapKey:         cbor.DupMapKeyEnforcedAPF,
			IndefLength:       cbor.IndefLengthForbidden,
			ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
			MaxNestedLevels:   maxNestedLevels,
			MaxArrayElements:  MaxComponents * 2,
			MaxMapPairs:       maxMapPairs,
		}.DecMode()
		if err != nil {
			panic(err)
		}
		return dm
	}()
	encMode = func() cbor.EncMode {
		em, err := cbor.CoreDetEncOptions().EncMode()
		if err != nil {
			panic(err)
		}
		return em
	}()
)

// evidenceDecMode decodes the evidence's outer map, which has no tags.
var evidenceDecMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		MaxNestedLevels:   maxEvidenceNestedLevels,
		MaxArrayElements:  maxEvidenceArrayElements,
		MaxMapPairs:       maxEvidenceMapPairs,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()
