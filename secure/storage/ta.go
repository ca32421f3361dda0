package storage

import (
	"bytes"
	"slices"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/ta"
)

// TA is the record of a Trusted Application (package ta defines it; the
// store keeps it).
type TA = ta.Record

// ErrNotTA: a component ID is not a TA's.
var ErrNotTA = ta.ErrNotTA

// cloneTA deep-copies a record, so that the store shares no memory with
// its callers.
func cloneTA(t TA) TA {
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
