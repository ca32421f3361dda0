package rollout_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/tamtest"
)

// heldOfSize stores a held envelope of kind that writes a payload of
// size bytes into component id: one that fits alone in a TEEP Update
// when size is below its 128 KiB.
func heldOfSize(t *testing.T, tm *tamtest.TAM, a *tamtest.Author, kind store.EnvelopeKind, id suit.ComponentID, size int) store.Envelope {
	t.Helper()
	env, err := author.Build(&author.Manifest{SequenceNumber: 2, VendorID: bytes.Repeat([]byte{0xfa}, 16),
		ClassID: bytes.Repeat([]byte{0x14}, 16), Components: []author.Component{{ID: id, Payload: make([]byte, size), Write: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Sign(a.Key); err != nil {
		t.Fatal(err)
	}
	raw := env.Encode()
	digest := sha256.Sum256(raw)
	e := store.Envelope{Digest: digest[:], Kind: kind, Components: []suit.ComponentID{id}, SequenceNumber: 2,
		Author: "author", Raw: raw, Published: tm.Clock.Now(), Held: true}
	if err := tm.Store.PutEnvelope(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestReleaseMustFitOneUpdate: a release is installed as one set, its TAs
// in one Update and its firmware in another, so a release whose TAs (or
// firmware) fit one by one but not together is refused and not stored;
// TAs and firmware that each fit are a release.
func TestReleaseMustFitOneUpdate(t *testing.T) {
	t.Parallel()
	f := newFleet(t, 1, nil)
	const size = 70 << 10 // one fits in an Update, two do not
	taA := heldOfSize(t, f.tam, f.author, store.TAEnvelope, tamtest.ID("ta", "a"), size)
	taB := heldOfSize(t, f.tam, f.author, store.TAEnvelope, tamtest.ID("ta", "b"), size)
	secure := heldOfSize(t, f.tam, f.author, store.FirmwareEnvelope, tamtest.ID("secure"), size)
	normal := heldOfSize(t, f.tam, f.author, store.FirmwareEnvelope, tamtest.ID("normal"), size)
	small := f.author.Publish(t, f.tam, store.TAEnvelope, tamtest.ID("ta", "c"), 2, true)
	for _, tc := range []struct {
		name string
		envs []store.Envelope
		want error
	}{
		{"two TAs too large together", []store.Envelope{taA, taB}, rollout.ErrTooLargeForTEEP},
		{"a firmware pair too large together", []store.Envelope{secure, normal}, rollout.ErrTooLargeForTEEP},
		{"a large TA and a small one", []store.Envelope{taA, small}, nil},
		{"a large TA and a large image, in Updates of their own", []store.Envelope{taB, secure}, nil},
	} {
		var ds [][]byte
		for _, e := range tc.envs {
			ds = append(ds, e.Digest)
		}
		_, err := f.tam.Rollout.AddRelease(t.Context(), tc.name, ds)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: AddRelease = %v, want %v", tc.name, err, tc.want)
		}
		_, stored := f.tam.Store.Release(t.Context(), tc.name)
		if (stored == nil) != (tc.want == nil) {
			t.Errorf("%s: stored: %v, want stored %v", tc.name, stored, tc.want == nil)
		}
	}
}
