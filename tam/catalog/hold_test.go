package catalog_test

import (
	"context"
	"testing"

	"github.com/teeup/teeup/tam/catalog"
)

// TestPublishHold: an envelope published held is stored held, reaches no
// device by direct delivery (LatestFor) and wakes no long poll; the same
// author's envelope published for direct delivery does both.
func TestPublishHold(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	ta := []byte("hello TA image")
	held, err := r.cat.Publish(acme(r), catalog.Publication{Hold: true, Payloads: [][]byte{ta},
		Envelope: envelope(t, id("TA", "acme", "hello"), 2, ta, r.signers["acme"])})
	if err != nil {
		t.Fatal(err)
	}
	if !held.Held || len(r.notified) != 0 {
		t.Fatalf("held publish: held %v, notified %v", held.Held, r.notified)
	}
	latest, err := r.st.LatestFor(context.Background(), "any-device")
	if err != nil || len(latest) != 0 {
		t.Fatalf("LatestFor after a held publish: %d envelopes, %v", len(latest), err)
	}
	direct, err := r.cat.Publish(acme(r), catalog.Publication{Payloads: [][]byte{ta},
		Envelope: envelope(t, id("TA", "acme", "hello"), 1, ta, r.signers["acme"])})
	if err != nil {
		t.Fatal(err)
	}
	latest, err = r.st.LatestFor(context.Background(), "any-device")
	if err != nil || len(latest) != 1 || string(latest[0].Digest) != string(direct.Digest) || len(r.notified) != 1 {
		t.Fatalf("LatestFor after a direct publish: %v, %v; notified %v", latest, err, r.notified)
	}
}
