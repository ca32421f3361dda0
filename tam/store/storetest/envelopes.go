package storetest

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// envelope is a valid envelope whose Raw (and so Digest) is unique to raw.
func envelope(raw string, seq uint64, device string, published time.Time, comps ...suit.ComponentID) store.Envelope {
	kind := store.TAEnvelope
	if device != "" {
		kind = store.PersonalizationEnvelope
	}
	return store.Envelope{
		Digest: sum([]byte(raw)), Kind: kind, Components: comps, SequenceNumber: seq,
		Author: "acme", Device: device, Raw: []byte(raw), Published: published,
	}
}

func testEnvelopes(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := fresh(t, open)
		full := envelope("full", math.MaxUint64, "", at(3), cid("ta", "x"), cid("ta", "y"))
		full.Kind = store.FirmwareEnvelope
		full.Payloads = [][]byte{sum([]byte("p1")), sum([]byte("p2"))}
		full.Reference = []byte(`{"ref":1}`)
		emptyLists := envelope("empty lists", 0, "dev-1", at(2))
		emptyLists.Components, emptyLists.Payloads, emptyLists.Reference = []suit.ComponentID{}, [][]byte{}, []byte{}
		nilLists := envelope("nil lists", 1<<63, "", time.Time{})
		big := envelope(string(bytes.Repeat([]byte{1}, store.MaxEnvelope)), 1, "", at(1), cid("big"))
		envs := []store.Envelope{nilLists, big, emptyLists, full} // by Published
		for _, e := range envs {
			wantErr(t, fmt.Sprintf("put %x", e.Digest[:4]), s.PutEnvelope(ctx, e), nil)
		}
		for _, e := range envs {
			got, err := s.Envelope(ctx, e.Digest)
			wantErr(t, "envelope", err, nil)
			same(t, fmt.Sprintf("envelope %x", e.Digest[:4]), got, e)
		}
		all, err := s.ListEnvelopes(ctx)
		wantErr(t, "list", err, nil)
		same(t, "list", all, envs)
	})
	t.Run("ErrExists", func(t *testing.T) {
		ctx, s := fresh(t, open)
		e := envelope("one", 1, "", at(1), cid("ta"))
		wantErr(t, "put", s.PutEnvelope(ctx, e), nil)
		again := e
		again.SequenceNumber, again.Author = 2, "other"
		wantErr(t, "put again", s.PutEnvelope(ctx, again), store.ErrExists)
		got, err := s.Envelope(ctx, e.Digest)
		wantErr(t, "envelope", err, nil)
		same(t, "after refused put", got, e)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := fresh(t, open)
		_, err := s.Envelope(ctx, sum([]byte("absent")))
		wantErr(t, "envelope", err, store.ErrNotFound)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		ctx, s := fresh(t, open)
		good := func(mod func(*store.Envelope)) store.Envelope {
			e := envelope("raw", 1, "", at(1), cid("ta"))
			mod(&e)
			return e
		}
		for _, tc := range []struct {
			name string
			e    store.Envelope
		}{
			{"digest not of raw", good(func(e *store.Envelope) { e.Digest = sum([]byte("other")) })},
			{"digest short", good(func(e *store.Envelope) { e.Digest = e.Digest[:31] })},
			{"digest missing", good(func(e *store.Envelope) { e.Digest = nil })},
			{"unknown kind", good(func(e *store.Envelope) { e.Kind = "kernel" })},
			{"no author", good(func(e *store.Envelope) { e.Author = "" })},
			{"device not UTF-8", good(func(e *store.Envelope) { e.Device = "\xc3" })},
			{"empty raw", store.Envelope{Digest: sum(nil), Kind: store.TAEnvelope, Author: "acme"}},
			{"raw over MaxEnvelope", good(func(e *store.Envelope) {
				e.Raw = make([]byte, store.MaxEnvelope+1)
				e.Digest = sum(e.Raw)
			})},
			{"component empty", good(func(e *store.Envelope) { e.Components = []suit.ComponentID{nil} })},
			{"too many components", good(func(e *store.Envelope) { e.Components = make([]suit.ComponentID, store.MaxItems+1) })},
			{"payload digest short", good(func(e *store.Envelope) { e.Payloads = [][]byte{{1, 2, 3}} })},
			{"reference over MaxBlob", good(func(e *store.Envelope) { e.Reference = make([]byte, store.MaxBlob+1) })},
		} {
			wantErr(t, tc.name, s.PutEnvelope(ctx, tc.e), store.ErrInvalid)
		}
		all, err := s.ListEnvelopes(ctx)
		wantErr(t, "list", err, nil)
		if len(all) != 0 {
			t.Fatalf("refused envelopes were stored: %d", len(all))
		}
		latest, err := s.LatestFor(ctx, "")
		wantErr(t, "latest", err, nil)
		if len(latest) != 0 {
			t.Fatalf("refused envelopes are offered: %d", len(latest))
		}
	})
}

func testLatestFor(t *testing.T, open Opener) {
	// The catalog, by Published. X: three general versions, the highest
	// published first. Y, Z: sequence numbers across the sign bit of int64.
	// Z: a personalization with a lower number loses. P: one version per
	// device. Q: a general and a device envelope with the same number.
	// ["a","b"] and ["ab"] are different components. M: 0 and the largest.
	var (
		x1 = envelope("x1", 1, "", at(1), cid("ta", "x"))
		x3 = envelope("x3", 3, "", at(2), cid("ta", "x"))
		x2 = envelope("x2", 2, "", at(3), cid("ta", "x"))
		yz = envelope("yz", 1<<63+5, "", at(4), cid("ta", "y"), cid("ta", "z"))
		y4 = envelope("y4", 1<<63-1, "", at(5), cid("ta", "y"))
		zA = envelope("zA", 2, "dev-a", at(6), cid("ta", "z"))
		pA = envelope("pA", 1, "dev-a", at(7), cid("ta", "p"))
		pB = envelope("pB", 7, "dev-b", at(8), cid("ta", "p"))
		qA = envelope("qA", 4, "dev-a", at(9), cid("ta", "q"))
		q  = envelope("q", 4, "", at(10), cid("ta", "q"))
		ab = envelope("ab", 1, "", at(11), cid("a", "b"))
		aB = envelope("a+b", 9, "", at(12), cid("ab"))
		m0 = envelope("m0", 0, "", at(13), cid("m"))
		mx = envelope("mx", math.MaxUint64, "", at(14), cid("m"))
		// nc installs nothing: no component, so it is never the latest.
		nc = envelope("nc", 100, "", at(15))
	)
	catalog := []store.Envelope{x1, x3, x2, yz, y4, zA, pA, pB, qA, q, ab, aB, m0, mx, nc}
	for _, tc := range []struct {
		device string
		want   []store.Envelope // in the order of ListEnvelopes
	}{
		{"dev-a", []store.Envelope{x3, yz, pA, qA, ab, aB, mx}},
		{"dev-b", []store.Envelope{x3, yz, pB, q, ab, aB, mx}},
		{"dev-c", []store.Envelope{x3, yz, q, ab, aB, mx}},
		{"", []store.Envelope{x3, yz, q, ab, aB, mx}},
	} {
		t.Run("device="+tc.device, func(t *testing.T) {
			ctx, s := fresh(t, open)
			for _, e := range catalog {
				wantErr(t, "put "+string(e.Raw), s.PutEnvelope(ctx, e), nil)
			}
			got, err := s.LatestFor(ctx, tc.device)
			wantErr(t, "latest", err, nil)
			if names(got) != names(tc.want) {
				t.Fatalf("latest for %q: %s, want %s", tc.device, names(got), names(tc.want))
			}
			same(t, "latest", got, tc.want)
		})
	}
	t.Run("Empty", func(t *testing.T) {
		ctx, s := fresh(t, open)
		got, err := s.LatestFor(ctx, "dev-a")
		wantErr(t, "latest", err, nil)
		if len(got) != 0 {
			t.Fatalf("latest of an empty store: %s", names(got))
		}
	})
	t.Run("NewVersion", func(t *testing.T) {
		// A version published later replaces the one offered before.
		ctx, s := fresh(t, open)
		wantErr(t, "put", s.PutEnvelope(ctx, x1), nil)
		wantErr(t, "put", s.PutEnvelope(ctx, x2), nil)
		got, err := s.LatestFor(ctx, "dev-a")
		wantErr(t, "latest", err, nil)
		same(t, "latest", got, []store.Envelope{x2})
		wantErr(t, "put", s.PutEnvelope(ctx, x3), nil)
		got, err = s.LatestFor(ctx, "dev-a")
		wantErr(t, "latest", err, nil)
		same(t, "latest", got, []store.Envelope{x3})
	})
}

func names(es []store.Envelope) string {
	var b bytes.Buffer
	for i, e := range es {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(e.Raw)
	}
	return "[" + b.String() + "]"
}
