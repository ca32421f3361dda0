package teepsrv_test

import (
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/tamtest"
	"github.com/teeup/teeup/tam/teepsrv"
)

// A device whose Agent refuses a TA every time is not sent it forever:
// after MaxRefusals Errors the TAM stops (no Update, the reason in the
// device's last error), and a new release of the TA is sent again.
func TestRefusedEnvelopeIsNotSentForever(t *testing.T) {
	tm := tamtest.NewTAM(t, tamtest.Options{Seed: 7})
	author := tamtest.NewAuthor(t)
	dev := tm.NewDevice(t, tamtest.NewEvidence(t), []*suit.Key{author.Pub}, tamtest.DeviceOptions{FailInstall: true})
	hello := tamtest.ID("TA", "acme", "hello")
	author.Publish(t, tm, store.TAEnvelope, hello, 1, false)

	for i := range teepsrv.MaxRefusals {
		out, err := dev.Session(t.Context())
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		if out.Updates != 1 || !out.Error {
			t.Fatalf("session %d: %+v, want an Update the device refuses", i, out)
		}
	}
	out, err := dev.Session(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if out.Updates != 0 {
		t.Fatalf("after %d refusals: %d Updates, want none", teepsrv.MaxRefusals, out.Updates)
	}
	d, err := tm.Store.Device(t.Context(), dev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.LastError == "" {
		t.Error("the device's last error does not say why it is not updated")
	}

	// The author fixes it: a new envelope is sent, and installs.
	dev.TCs.SetFail(false)
	author.Publish(t, tm, store.TAEnvelope, hello, 2, false)
	out, err = dev.Session(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if out.Updates != 1 || !out.Success {
		t.Fatalf("a new release after the refusals: %+v, want it installed", out)
	}
	if seq, ok := dev.TCs.Runs(hello); !ok || seq != 2 {
		t.Errorf("the device runs %s at %d (%v), want 2", hello, seq, ok)
	}
}
