package sqlite

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

var benchT0 = time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)

func benchStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "tam.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// One QueryResponse accepted: the compare-and-set from QuerySent to
// UpdateSent, committed to disk (fsync) before it returns. The session it
// advances is created outside the timer.
func BenchmarkAdvanceSession(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	digest := sha256.Sum256([]byte("envelope"))
	i := 0
	for b.Loop() {
		b.StopTimer()
		tok := []byte(strconv.Itoa(i))
		i++
		sess := store.Session{Token: tok, State: store.QuerySent, Challenge: tok, Numbering: 1, Created: benchT0, Expires: benchT0.Add(time.Minute)}
		if err := s.CreateSession(ctx, sess); err != nil {
			b.Fatal(err)
		}
		sess.State, sess.Device, sess.Envelopes = store.UpdateSent, "dev", [][]byte{digest[:]}
		b.StartTimer()
		if err := s.AdvanceSession(ctx, sess, store.QuerySent, benchT0.Add(time.Second)); err != nil {
			b.Fatal(err)
		}
	}
}

// The decision's catalog query with 1,000 envelopes: 250 components of 4
// versions each, one in ten of them for one device only.
func BenchmarkLatestFor1000(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	for i := range 1000 {
		raw := []byte(fmt.Sprintf("envelope %d", i))
		sum := sha256.Sum256(raw)
		dev := ""
		if i%10 == 0 {
			dev = "dev-" + strconv.Itoa(i%3)
		}
		e := store.Envelope{Digest: sum[:], Kind: store.TAEnvelope, Components: []suit.ComponentID{{[]byte("TA"), []byte("acme"), []byte(strconv.Itoa(i % 250))}},
			SequenceNumber: uint64(i / 250), Author: "acme", Device: dev, Raw: raw, Published: benchT0.Add(time.Duration(i) * time.Second)}
		if err := s.PutEnvelope(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		es, err := s.LatestFor(ctx, "dev-1")
		if err != nil || len(es) != 250 {
			b.Fatalf("%d envelopes, %v", len(es), err)
		}
	}
}
