package boot_test

import (
	"bytes"
	"testing"

	"github.com/teeup/teeup/secure/boot"
)

// TestEventLogKeptForThePowerOn: the bootloader keeps the event log of the
// boot it ran, which replays to the PCR, until the next boot replaces it.
func TestEventLogKeptForThePowerOn(t *testing.T) {
	r := newRig(t)
	if got := r.boot.EventLog(); got != nil {
		t.Fatalf("an event log before any boot: %v", got)
	}
	for range 2 {
		res, err := r.reboot()
		if err != nil {
			t.Fatal(err)
		}
		log := r.boot.EventLog()
		pcr, err := r.tpm.ReadPCR(boot.MeasurementPCR)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 4 || !bytes.Equal(log.Replay(boot.MeasurementPCR), pcr) || !bytes.Equal(res.Events.Replay(boot.MeasurementPCR), pcr) {
			t.Fatalf("event log of %d events replays to %x, PCR %x", len(log), log.Replay(boot.MeasurementPCR), pcr)
		}
		for i, e := range log {
			if want := boot.Components[i/2].ID().String(); e.Component != want {
				t.Fatalf("event %d names %q, want the component identifier %q", i, e.Component, want)
			}
		}
		log[0].Digest = nil // a copy: the bootloader's is unchanged
		if r.boot.EventLog()[0].Digest == nil {
			t.Fatal("EventLog returned the bootloader's own log")
		}
	}
}
