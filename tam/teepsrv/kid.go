package teepsrv

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// decMode is the strict decoder of what this package reads itself: a
// message's kid before verification and the claims of a tc-list entry.
var decMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		MaxNestedLevels:  maxNesting,
		MaxArrayElements: maxElements,
		MaxMapPairs:      maxMapPairs,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

const (
	coseSign1Tag = 18
	coseKID      = 4
)

// peekKID reads the kid of a tagged COSE_Sign1 whose signature is not yet
// verified: it only names the registered key to verify it with, and
// nothing else is read before that key verified the whole message.
func peekKID(data []byte) ([]byte, error) {
	var tag cbor.RawTag
	if err := decMode.Unmarshal(data, &tag); err != nil {
		return nil, fmt.Errorf("%w: COSE_Sign1: %w", ErrMalformed, err)
	}
	if tag.Number != coseSign1Tag {
		return nil, fmt.Errorf("%w: CBOR tag %d, want a COSE_Sign1 (18)", ErrMalformed, tag.Number)
	}
	var parts []cbor.RawMessage
	if err := decMode.Unmarshal(tag.Content, &parts); err != nil || len(parts) != 4 {
		return nil, fmt.Errorf("%w: COSE_Sign1 is not an array of 4", ErrUnsigned)
	}
	var protected []byte
	if err := decMode.Unmarshal(parts[0], &protected); err != nil {
		return nil, fmt.Errorf("%w: COSE_Sign1 protected header: %w", ErrMalformed, err)
	}
	headers := map[string]map[int64]cbor.RawMessage{}
	if len(protected) > 0 {
		var p map[int64]cbor.RawMessage
		if err := decMode.Unmarshal(protected, &p); err != nil {
			return nil, fmt.Errorf("%w: COSE_Sign1 protected header: %w", ErrMalformed, err)
		}
		headers["protected"] = p
	}
	var u map[int64]cbor.RawMessage
	if err := decMode.Unmarshal(parts[1], &u); err != nil {
		return nil, fmt.Errorf("%w: COSE_Sign1 unprotected header: %w", ErrMalformed, err)
	}
	headers["unprotected"] = u
	var kid []byte
	for bucket, h := range headers {
		raw, ok := h[coseKID]
		if !ok {
			continue
		}
		if kid != nil {
			return nil, fmt.Errorf("%w: kid in both headers", ErrUnsigned)
		}
		if err := decMode.Unmarshal(raw, &kid); err != nil || len(kid) == 0 || len(kid) > maxKIDSize {
			return nil, fmt.Errorf("%w: the %s kid is not a byte string of 1..%d bytes", ErrMalformed, bucket, maxKIDSize)
		}
	}
	if kid == nil {
		return nil, fmt.Errorf("%w: no kid", ErrUnsigned)
	}
	return kid, nil
}
