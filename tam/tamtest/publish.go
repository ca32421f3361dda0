package tamtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/tam/store"
)

// Author signs envelopes and stores them at a TAM, as a publish that
// passed the catalog's checks does.
type Author struct {
	Key *suit.SigningKey
	Pub *suit.Key
}

// NewAuthor makes an author with a new key.
func NewAuthor(t testing.TB) *Author {
	t.Helper()
	key, err := suit.GenerateSigningKey(suit.AlgESP256)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.Public()
	if err != nil {
		t.Fatal(err)
	}
	return &Author{Key: key, Pub: pub}
}

// Publish stores at tm an envelope of kind installing component id at
// seq, its payload written by the manifest itself; held envelopes go only through a release.
func (a *Author) Publish(t testing.TB, tm *TAM, kind store.EnvelopeKind, id suit.ComponentID, seq uint64, held bool) store.Envelope {
	t.Helper()
	env, err := author.Build(&author.Manifest{SequenceNumber: seq, VendorID: bytes.Repeat([]byte{0xfa}, 16),
		ClassID: bytes.Repeat([]byte{0x14}, 16), Components: []author.Component{{ID: id, Payload: []byte(id.String() + " payload"), Write: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Sign(a.Key); err != nil {
		t.Fatal(err)
	}
	raw := env.Encode()
	digest := sha256.Sum256(raw)
	e := store.Envelope{Digest: digest[:], Kind: kind, Components: []suit.ComponentID{id}, SequenceNumber: seq,
		Author: "author", Raw: raw, Published: tm.Clock.Now(), Held: held}
	if err := tm.Store.PutEnvelope(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

// ID is a component identifier of parts.
func ID(parts ...string) suit.ComponentID {
	c := make(suit.ComponentID, len(parts))
	for i, p := range parts {
		c[i] = []byte(p)
	}
	return c
}
