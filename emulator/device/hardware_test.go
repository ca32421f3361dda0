package device

import (
	"context"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/teeup/teeup/emulator/flash"
	emutpm "github.com/teeup/teeup/emulator/tpm"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/tpm"
)

// TestCountersOfAnOlderDevice: a device made before the rollback indices
// keeps its anti-rollback values in NV counters. They still count (the
// higher of the two is the value, so a rollback index defined but not yet
// written, as a power cut can leave it, lowers nothing), the first advance
// moves the value into a rollback index, and from there a sequence number
// far above the counter (a UTC timestamp) is accepted.
func TestCountersOfAnOlderDevice(t *testing.T) {
	ctx := context.Background()
	chip, err := emutpm.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer chip.Close()
	tp := tpm.New(chip)
	k := Counters{TPM: tp}
	// The older device: NV counters at 5 and 3.
	for c, v := range map[boot.Component]uint64{boot.Secure: 5, boot.Normal: 3} {
		if err := tp.DefineCounter(counterIndex(c)); err != nil {
			t.Fatal(err)
		}
		if err := tp.AdvanceCounterTo(counterIndex(c), v); err != nil {
			t.Fatal(err)
		}
	}
	// A power cut left the secure component's rollback index defined and
	// never written.
	if err := tp.DefineRollbackIndex(rollbackIndex(boot.Secure)); err != nil {
		t.Fatal(err)
	}
	for c, want := range map[boot.Component]uint64{boot.Secure: 5, boot.Normal: 3} {
		if got, err := k.Counter(c); err != nil || got != want {
			t.Fatalf("%s: %d, %v; want %d", c, got, err, want)
		}
		if err := k.AdvanceCounterTo(c, want-1); err == nil {
			t.Fatalf("%s: advanced below the old counter", c)
		}
	}

	// The bootloader on it: factory images at 5, then a jump.
	f, err := flash.NewMem(FlashConfig(SweepLayout))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigners()
	if err != nil {
		t.Fatal(err)
	}
	pol, err := s.Policy()
	if err != nil {
		t.Fatal(err)
	}
	b, err := boot.New(f, k, PCR{TPM: tp}, boot.Config{Layout: SweepLayout, Policy: pol, VendorID: VendorID, ClassID: ClassID})
	if err != nil {
		t.Fatal(err)
	}
	var factory, jump []boot.Staged
	for _, c := range boot.Components {
		st, err := s.Release(c, 5, sweepImage(c, 5))
		if err != nil {
			t.Fatal(err)
		}
		factory = append(factory, st)
		if st, err = s.Release(c, jumpTimestamp, sweepImage(c, jumpTimestamp)); err != nil {
			t.Fatal(err)
		}
		jump = append(jump, st)
	}
	if err := b.Provision(ctx, factory); err != nil {
		t.Fatal(err)
	}
	// Provisioning moved both values into rollback indices; take the
	// normal one away again, so that its value is in the old counter
	// alone (3). Staging prepares every counter of the set before anything
	// is committed: the rollback index is back, at the old counter's value.
	pub, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(rollbackIndex(boot.Normal))}.Execute(chip)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (tpm2.NVUndefineSpace{AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHPlatform, Auth: tpm2.PasswordAuth(nil)},
		NVIndex: tpm2.NamedHandle{Handle: tpm2.TPMHandle(rollbackIndex(boot.Normal)), Name: pub.NVName}}).Execute(chip); err != nil {
		t.Fatal(err)
	}
	if err := b.Stage(ctx, jump); err != nil {
		t.Fatal(err)
	}
	if got, err := tp.RollbackIndex(rollbackIndex(boot.Normal)); err != nil || got != 3 {
		t.Fatalf("normal rollback index after the stage: %d, %v; want 3", got, err)
	}
	f.Reset()
	if err := chip.Reset(); err != nil {
		t.Fatal(err)
	}
	if res, err := b.Boot(ctx); err != nil || !res.Trial {
		t.Fatalf("trial boot: %v %+v", err, res)
	}
	if err := b.Accept(ctx); err != nil {
		t.Fatalf("accept: %v", err)
	}
	for _, c := range boot.Components {
		if got, err := tp.RollbackIndex(rollbackIndex(c)); err != nil || got != jumpTimestamp {
			t.Fatalf("%s rollback index: %d, %v", c, got, err)
		}
		if got, err := k.Counter(c); err != nil || got != jumpTimestamp {
			t.Fatalf("%s counter: %d, %v", c, got, err)
		}
	}
}
