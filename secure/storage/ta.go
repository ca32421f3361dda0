package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/teeup/teeup/secure/suit"
)

// TANamespace is the first element of every TA's component ID: a TA is
// ["TA", author, name], so that an author's trust anchor can be bound to
// ["TA", author] and touch its own TAs only.
const TANamespace = "TA"

// PersonalizationSuffix is the last element of the component that holds a
// TA's personalization data: ["TA", author, name, "personalization"].
const PersonalizationSuffix = "personalization"

// ErrNotTA: a component ID is not a TA's.
var ErrNotTA = errors.New("storage: not a TA component ID")

// TA is the record of a Trusted Application.
type TA struct {
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
	// exists only here and in the secure world's memory.
	Personalization []byte `cbor:"6,keyasint,omitempty"`
}

// IsTA reports whether id names a TA: ["TA", author, name].
func IsTA(id suit.ComponentID) bool {
	return len(id) == 3 && string(id[0]) == TANamespace && len(id[1]) > 0 && len(id[2]) > 0
}

// TAOf returns the TA a component belongs to: the TA itself, its
// personalization data, or another component under it (such as the staging
// component of an encrypted payload).
func TAOf(id suit.ComponentID) (suit.ComponentID, bool) {
	if len(id) < 3 || !IsTA(id[:3]) {
		return nil, false
	}
	return id[:3], true
}

// IsPersonalization reports whether id is the personalization component
// of a TA.
func IsPersonalization(id suit.ComponentID) bool {
	return len(id) == 4 && IsTA(id[:3]) && string(id[3]) == PersonalizationSuffix
}

func (t TA) validate() error {
	if !IsTA(t.ID) {
		return fmt.Errorf("%w: %s", ErrNotTA, t.ID)
	}
	if t.Unlinked && (t.Image != nil || t.Personalization != nil || t.Envelope != nil) {
		return fmt.Errorf("storage: an unlinked TA %s keeps no data", t.ID)
	}
	return nil
}

func (t TA) clone() TA {
	t.ID = slices.Clone(t.ID)
	for i := range t.ID {
		t.ID[i] = bytes.Clone(t.ID[i])
	}
	t.Envelope, t.Image, t.Personalization = bytes.Clone(t.Envelope), bytes.Clone(t.Image), bytes.Clone(t.Personalization)
	return t
}

func compareIDs(a, b suit.ComponentID) int {
	return slices.CompareFunc(a, b, bytes.Compare)
}
