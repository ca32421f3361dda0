package attest

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/teeup/teeup/attest/eventlog"
)

func testLog(c *Claims) eventlog.Log {
	var l eventlog.Log
	for _, m := range c.Components {
		if m.Kind != KindImage {
			continue
		}
		l = append(l,
			eventlog.Event{PCR: eventlog.MeasurementPCR, Component: m.Name, Kind: eventlog.KindManifest, Digest: m.ManifestDigest},
			eventlog.Event{PCR: eventlog.MeasurementPCR, Component: m.Name, Kind: eventlog.KindImage, Digest: m.Digest})
	}
	return l
}

// recordingQuote is a QuoteFunc that records the qualifying data it was
// asked to quote and returns fixed bytes; the format tests do not verify
// quotes (verify_test.go quotes with the TPM simulator).
func recordingQuote(seen *[]byte) QuoteFunc {
	return func(q []byte) (Quote, error) {
		*seen = bytes.Clone(q)
		return Quote{Attest: []byte("attest"), Signature: []byte("signature")}, nil
	}
}

func TestEvidenceRoundTrip(t *testing.T) {
	t.Parallel()
	key := testKey(t, 1)
	c := testClaims()
	var quoted []byte
	ev, err := NewEvidence(c, key, recordingQuote(&quoted), testLog(c))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEvidence(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ev) {
		t.Errorf("decoded %+v\nwant %+v", got, ev)
	}
	v, err := VerifyEAT(got.EAT, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(quoted, v.PayloadHash) {
		t.Errorf("quoted %x, want the EAT payload's digest %x", quoted, v.PayloadHash)
	}
	again, err := got.Marshal()
	if err != nil || !bytes.Equal(again, b) {
		t.Errorf("re-encoding differs (%v)", err)
	}
	for i := range b {
		if _, err := DecodeEvidence(b[:i]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("prefix of %d bytes: %v", i, err)
		}
	}
}

func TestDecodeEvidenceRefuses(t *testing.T) {
	t.Parallel()
	c := testClaims()
	good := evidenceWire{Version: EvidenceVersion, EAT: []byte{0xD2}, Quote: Quote{Attest: []byte{1}, Signature: []byte{2}}}
	good.EventLog, _ = testLog(c).Marshal()
	enc := func(f func(w *evidenceWire)) []byte {
		w := good
		f(&w)
		b, err := encMode.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"other version", enc(func(w *evidenceWire) { w.Version = 2 })},
		{"no EAT", enc(func(w *evidenceWire) { w.EAT = nil })},
		{"no quote", enc(func(w *evidenceWire) { w.Quote.Attest = nil })},
		{"no quote signature", enc(func(w *evidenceWire) { w.Quote.Signature = nil })},
		{"long quote", enc(func(w *evidenceWire) { w.Quote.Attest = make([]byte, MaxQuoteAttest+1) })},
		{"bad event log", enc(func(w *evidenceWire) { w.EventLog = []byte{0x01} })},
		{"unknown key", []byte{0xA1, 0x05, 0x00}},
		{"tagged", append([]byte{0xC1}, enc(func(*evidenceWire) {})...)},
		{"too long", make([]byte, MaxEvidence+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeEvidence(tc.b); !errors.Is(err, ErrMalformed) {
				t.Errorf("err %v, want ErrMalformed", err)
			}
		})
	}
}

func FuzzDecodeEvidence(f *testing.F) {
	key := testKey(f, 1)
	c := testClaims()
	var quoted []byte
	ev, err := NewEvidence(c, key, recordingQuote(&quoted), testLog(c))
	if err != nil {
		f.Fatal(err)
	}
	b, err := ev.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvidence(b)
		if err != nil {
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("refusal not ErrRejected: %v", err)
			}
			return
		}
		again, err := ev.Marshal()
		if err != nil {
			t.Fatalf("decoded evidence does not encode: %v", err)
		}
		if _, err := DecodeEvidence(again); err != nil {
			t.Fatalf("re-encoded evidence does not decode: %v", err)
		}
		// The EAT inside decodes or is refused, never panics.
		_, _ = VerifyEAT(ev.EAT, &key.PublicKey)
	})
}
