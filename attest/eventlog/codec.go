package eventlog

import (
	"crypto/sha256"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// The wire form of a log is a CBOR array of events, each a map with
// integer keys: 1 pcr (uint), 2 component (tstr), 3 kind (tstr,
// "manifest" or "image"), 4 digest (bstr, 32 bytes of SHA-256). New keys
// may be added in a later version; this decoder refuses unknown ones, so
// an event never says more than a verifier reads.
var (
	decMode = func() cbor.DecMode {
		dm, err := cbor.DecOptions{
			DupMapKey:         cbor.DupMapKeyEnforcedAPF,
			IndefLength:       cbor.IndefLengthForbidden,
			TagsMd:            cbor.TagsForbidden,
			ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
			MaxNestedLevels:   maxNestedLevels,
			MaxArrayElements:  MaxEvents,
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

// Marshal encodes the log deterministically.
func (l Log) Marshal() ([]byte, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if l == nil {
		l = Log{}
	}
	return encMode.Marshal([]Event(l))
}

// Unmarshal decodes and validates an encoded log. It refuses input over
// MaxEncoded bytes, trailing bytes, unknown keys and events that break
// the format.
func Unmarshal(b []byte) (Log, error) {
	if len(b) > MaxEncoded {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(b), MaxEncoded)
	}
	// Only an array is a log: CBOR null and undefined would decode to an
	// empty one, and a log has one encoding.
	if len(b) == 0 || b[0]>>5 != 4 {
		return nil, fmt.Errorf("%w: not a CBOR array", ErrMalformed)
	}
	var events []Event
	if err := decMode.Unmarshal(b, &events); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	l := Log(events)
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return l, nil
}

// Validate checks every event against the format.
func (l Log) Validate() error {
	if len(l) > MaxEvents {
		return fmt.Errorf("%w: %d events, limit %d", ErrMalformed, len(l), MaxEvents)
	}
	for i, e := range l {
		switch {
		case e.PCR < 0 || e.PCR >= NumPCRs,
			e.Component == "" || len(e.Component) > MaxComponentName,
			e.Kind != KindManifest && e.Kind != KindImage,
			len(e.Digest) != sha256.Size:
			return eventError(ErrMalformed, i, e)
		}
	}
	return nil
}
