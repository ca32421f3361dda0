package ta

import (
	"fmt"

	"github.com/teeup/teeup/secure/suit"
)

// Record is what the secure storage keeps of a Trusted Application. Its
// CBOR keys are the storage format's and must not change.
type Record struct {
	ID suit.ComponentID `cbor:"1,keyasint"`
	// SequenceNumber is that of the last manifest that installed, updated
	// or unlinked the TA: no older manifest may touch it again.
	SequenceNumber uint64 `cbor:"2,keyasint"`
	// Unlinked records a TA that was removed; nothing else is kept of it.
	Unlinked bool `cbor:"3,keyasint,omitempty"`
	// Envelope is the SUIT envelope that installed it, without payloads.
	Envelope []byte `cbor:"4,keyasint,omitempty"`
	// Image is the TA's binary.
	Image []byte `cbor:"5,keyasint,omitempty"`
	// Personalization is the TA's plaintext personalization data, which
	// exists only in the store and in the secure world's memory.
	Personalization []byte `cbor:"6,keyasint,omitempty"`
}

// Validate refuses a record that is not a TA's (ErrNotTA), or an unlinked
// one that keeps data.
func (r Record) Validate() error {
	if !IsTA(r.ID) {
		return fmt.Errorf("%w: %s", ErrNotTA, r.ID)
	}
	if r.Unlinked && (r.Image != nil || r.Personalization != nil || r.Envelope != nil) {
		return fmt.Errorf("ta: an unlinked TA %s keeps no data", r.ID)
	}
	return nil
}

// Store is the secure storage as the installer uses it.
type Store interface {
	// Lookup returns the record of TA id, if there is one.
	Lookup(id suit.ComponentID) (Record, bool)
	// Apply makes every change at once, or none.
	Apply(changes []Record) error
	// TAs lists the records.
	TAs() []Record
}
