package catalog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/store"
)

// TestPublish: each refusal is an attack that fails and stores nothing;
// the honest publications are stored with their payloads and reference
// values.
func TestPublish(t *testing.T) {
	t.Parallel()
	ta := []byte("hello TA image")
	secureImg, normalImg := []byte("secure image v2"), []byte("normal image v2")
	stranger := signingKey(t)
	tests := []struct {
		name     string
		ctx      func(r *rig) context.Context
		envelope func(r *rig) []byte
		author   string
		payloads [][]byte
		want     error
	}{
		{name: "a TA inside the author's prefixes", ctx: acme, payloads: [][]byte{ta},
			envelope: func(r *rig) []byte { return envelope(t, id("TA", "acme", "hello"), 1, ta, r.signers["acme"]) }},
		{name: "the secure image co-signed by the operator", ctx: fw, payloads: [][]byte{secureImg},
			envelope: func(r *rig) []byte {
				return envelope(t, id("secure"), 2, secureImg, r.signers["fw"], r.signers["op"])
			}},
		{name: "the normal image, which needs no co-signature", ctx: fw, payloads: [][]byte{normalImg},
			envelope: func(r *rig) []byte { return envelope(t, id("normal"), 2, normalImg, r.signers["fw"]) }},
		{name: "a TA without its payload (fetched elsewhere)", ctx: acme,
			envelope: func(r *rig) []byte { return envelope(t, id("TA", "acme", "hello"), 1, ta, r.signers["acme"]) }},

		{name: "a TA carrying its 100 KiB image, which fits in one TEEP Update", ctx: acme,
			envelope: func(r *rig) []byte {
				return integrated(t, id("TA", "acme", "hello"), 1, bytes.Repeat([]byte{1}, 100<<10), r.signers["acme"])
			}},
		{name: "a TA carrying a 128 KiB image, which no TEEP Update can carry", ctx: acme, want: catalog.ErrTooLargeForTEEP,
			envelope: func(r *rig) []byte {
				return integrated(t, id("TA", "acme", "hello"), 1, bytes.Repeat([]byte{1}, 128<<10), r.signers["acme"])
			}},
		{name: "outside the author's prefixes", ctx: acme, payloads: [][]byte{ta}, want: catalog.ErrOutsidePrefixes,
			envelope: func(r *rig) []byte { return envelope(t, id("TA", "globex", "wallet"), 1, ta, r.signers["acme"]) }},
		{name: "an author's token with another author's valid envelope", ctx: acme, payloads: [][]byte{ta}, want: catalog.ErrSignature,
			envelope: func(r *rig) []byte { return envelope(t, id("TA", "globex", "wallet"), 1, ta, r.signers["globex"]) }},
		{name: "an author's token naming another author", ctx: acme, author: "globex", payloads: [][]byte{ta}, want: catalog.ErrNotAuthor,
			envelope: func(r *rig) []byte { return envelope(t, id("TA", "globex", "wallet"), 1, ta, r.signers["globex"]) }},
		{name: "a secure image without the operator's co-signature", ctx: fw, payloads: [][]byte{secureImg}, want: catalog.ErrNoCoSignature,
			envelope: func(r *rig) []byte { return envelope(t, id("secure"), 2, secureImg, r.signers["fw"]) }},
		{name: "a secure image co-signed by an unregistered key", ctx: fw, payloads: [][]byte{secureImg}, want: catalog.ErrNoCoSignature,
			envelope: func(r *rig) []byte { return envelope(t, id("secure"), 2, secureImg, r.signers["fw"], stranger) }},
		{name: "a secure image co-signed by a TA author", ctx: fw, payloads: [][]byte{secureImg}, want: catalog.ErrNoCoSignature,
			envelope: func(r *rig) []byte {
				return envelope(t, id("secure"), 2, secureImg, r.signers["fw"], r.signers["acme"])
			}},
		{name: "the operator alone on the secure image", ctx: fw, payloads: [][]byte{secureImg}, want: catalog.ErrSignature,
			envelope: func(r *rig) []byte { return envelope(t, id("secure"), 2, secureImg, r.signers["op"]) }},
		{name: "a payload whose digest does not match", ctx: acme, payloads: [][]byte{[]byte("another image")}, want: catalog.ErrPayloadDigest,
			envelope: func(r *rig) []byte { return envelope(t, id("TA", "acme", "hello"), 1, ta, r.signers["acme"]) }},
		{name: "a TA author publishing an image", ctx: acme, payloads: [][]byte{normalImg}, want: catalog.ErrOutsidePrefixes,
			envelope: func(r *rig) []byte { return envelope(t, id("normal"), 2, normalImg, r.signers["acme"]) }},
		{name: "no principal", ctx: func(*rig) context.Context { return context.Background() }, want: catalog.ErrNotAuthor,
			envelope: func(r *rig) []byte { return envelope(t, id("TA", "acme", "hello"), 1, ta, r.signers["acme"]) }},
		{name: "the author's principal without an author role", want: catalog.ErrNotAuthor,
			ctx:      func(*rig) context.Context { return as("acme", store.RoleViewer) },
			envelope: func(r *rig) []byte { return envelope(t, id("TA", "acme", "hello"), 1, ta, r.signers["acme"]) }},
		{name: "an operator publishing", want: catalog.ErrNotAuthor,
			ctx:      func(*rig) context.Context { return as("op", store.RoleOperator, store.RoleFirmwareAuthor) },
			envelope: func(r *rig) []byte { return envelope(t, id("secure"), 2, secureImg, r.signers["op"]) }},
		{name: "an unregistered author", want: catalog.ErrUnknownAuthor,
			ctx:      func(*rig) context.Context { return as("initech", store.RoleTAAuthor) },
			envelope: func(r *rig) []byte { return envelope(t, id("TA", "initech", "x"), 1, ta, stranger) }},
		{name: "not an envelope", ctx: acme, want: catalog.ErrInvalid,
			envelope: func(*rig) []byte { return []byte("not CBOR") }},
		{name: "a signature edited", ctx: acme, want: catalog.ErrSignature,
			envelope: func(r *rig) []byte {
				b := envelope(t, id("TA", "acme", "hello"), 1, ta, r.signers["acme"])
				i := bytes.Index(b, []byte("hello")) // the component ID is inside the signed manifest
				b[i] ^= 1
				return b
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			before := r.st.counts()
			env := tc.envelope(r)
			e, err := r.cat.Publish(tc.ctx(r), catalog.Publication{Author: tc.author, Envelope: env, Payloads: tc.payloads})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Publish = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if after := r.st.counts(); after != before || len(r.notified) != 0 {
					t.Fatalf("a refused publish changed the store (%v -> %v) or notified %v", before, after, r.notified)
				}
				return
			}
			stored, err := r.st.Envelope(context.Background(), e.Digest)
			if err != nil || !bytes.Equal(stored.Raw, env) || len(stored.Payloads) != len(tc.payloads) {
				t.Fatalf("stored %+v, %v", stored, err)
			}
			for i, p := range tc.payloads {
				got, err := r.st.Payload(context.Background(), stored.Payloads[i])
				if err != nil || !bytes.Equal(got, p) {
					t.Fatalf("payload %d: %v", i, err)
				}
			}
			rv, err := comid.DecodeReferenceValues(stored.Reference)
			if err != nil || len(rv.Components) != 1 {
				t.Fatalf("reference values %s: %v", stored.Reference, err)
			}
			if want := sha256.Sum256(env); !bytes.Equal(stored.Digest, want[:]) {
				t.Fatal("the envelope is not stored under its SHA-256")
			}
			if len(r.notified) != 1 || r.notified[0] != "" {
				t.Fatalf("notified %v, want every device once", r.notified)
			}
			// The same envelope again is a conflict, and changes nothing.
			before = r.st.counts()
			if _, err := r.cat.Publish(tc.ctx(r), catalog.Publication{Envelope: env, Payloads: tc.payloads}); !errors.Is(err, catalog.ErrExists) {
				t.Fatalf("publishing again: %v, want ErrExists", err)
			}
			if after := r.st.counts(); after != before {
				t.Fatal("a refused publish changed the store")
			}
		})
	}
}

func acme(*rig) context.Context { return as("acme", store.RoleTAAuthor) }
func fw(*rig) context.Context   { return as("fw", store.RoleFirmwareAuthor) }

// TestAddAuthorRefused: malformed registrations are refused and store
// nothing.
func TestAddAuthorRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	good, _ := signingKey(t).MarshalPublicPEM()
	tests := []struct {
		name string
		n    catalog.NewAuthor
		want error
	}{
		{"taken name", catalog.NewAuthor{Name: "acme", Kind: store.TAAuthor, KeyPEM: good, Prefixes: []suit.ComponentID{id("TA", "acme")}}, catalog.ErrExists},
		{"the TAM's name", catalog.NewAuthor{Name: catalog.TAMAuthor, Kind: store.TAAuthor, KeyPEM: good, Prefixes: []suit.ComponentID{id("TA", "x")}}, catalog.ErrInvalid},
		{"no prefix", catalog.NewAuthor{Name: "a", Kind: store.TAAuthor, KeyPEM: good}, catalog.ErrInvalid},
		{"a TA author outside TA", catalog.NewAuthor{Name: "a", Kind: store.TAAuthor, KeyPEM: good, Prefixes: []suit.ComponentID{id("secure")}}, catalog.ErrInvalid},
		{"a firmware author under TA", catalog.NewAuthor{Name: "a", Kind: store.FirmwareAuthor, KeyPEM: good, Prefixes: []suit.ComponentID{id("TA")}}, catalog.ErrInvalid},
		{"an unknown kind", catalog.NewAuthor{Name: "a", Kind: "king", KeyPEM: good, Prefixes: []suit.ComponentID{id("TA", "a")}}, catalog.ErrInvalid},
		{"not a key", catalog.NewAuthor{Name: "a", Kind: store.TAAuthor, KeyPEM: []byte("key"), Prefixes: []suit.ComponentID{id("TA", "a")}}, catalog.ErrInvalid},
		{"a name with a space", catalog.NewAuthor{Name: "a b", Kind: store.TAAuthor, KeyPEM: good, Prefixes: []suit.ComponentID{id("TA", "a")}}, catalog.ErrInvalid},
	}
	for _, tc := range tests {
		before := r.st.counts()
		if _, err := r.cat.AddAuthor(context.Background(), tc.n); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if r.st.counts() != before {
			t.Errorf("%s: the store changed", tc.name)
		}
	}
}
