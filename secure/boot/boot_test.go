package boot_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/boot/boottest"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/tpm/tpmtest"
)

var testLayout = boot.Layout{SectorSize: 1024, WriteAlign: 16, SlotSectors: 4}

// rig is a boottest rig with the test it serves.
type rig struct {
	t *testing.T
	*boottest.Rig
	tpm     *tpmtest.Sim
	boot    *boot.Device
	signers *boottest.Signers
}

// newRig is a provisioned device: flash, the reference TPM, a bootloader,
// and the factory pair at sequence 1.
func newRig(t *testing.T) *rig {
	t.Helper()
	return newRigOn(t, false)
}

// newRigOn is newRig whose flash logs its operations when record is set.
func newRigOn(t *testing.T, record bool) *rig {
	t.Helper()
	br := boottest.New(t, testLayout, record)
	r := &rig{t: t, Rig: br, tpm: br.TPM, boot: br.Boot, signers: br.Signers}
	if err := r.boot.Provision(context.Background(), []boot.Staged{r.release(boot.Secure, 1), r.release(boot.Normal, 1)}); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) release(c boot.Component, seq uint64) boot.Staged {
	r.t.Helper()
	s, err := r.signers.Release(c, seq, boottest.Image(c, seq, 1500+int(seq)*100))
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// reboot is a power cycle: the TPM resets (PCRs clear), then the bootloader runs.
func (r *rig) reboot() (*boot.Result, error) {
	r.t.Helper()
	r.Flash.Reset()
	r.tpm.Reset(r.t)
	return r.boot.Boot(context.Background())
}

func seqs(res *boot.Result) [2]uint64 {
	return [2]uint64{res.Images[0].SequenceNumber, res.Images[1].SequenceNumber}
}

func TestUpdateTrialAcceptRevert(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	res, err := r.reboot()
	if err != nil || seqs(res) != [2]uint64{1, 1} || res.Trial {
		t.Fatalf("factory boot: %v %+v", err, res)
	}
	// Measured boot: the event log replays to the PCR.
	pcr, err := r.tpm.ReadPCR(boot.MeasurementPCR)
	if err != nil || !bytes.Equal(pcr, res.Events.Replay(boot.MeasurementPCR)) || len(res.Events) != 4 {
		t.Fatalf("PCR %x, log replays to %x (%d events), %v", pcr, res.Events.Replay(boot.MeasurementPCR), len(res.Events), err)
	}

	if err := r.boot.Stage(ctx, []boot.Staged{r.release(boot.Secure, 2), r.release(boot.Normal, 2)}); err != nil {
		t.Fatal(err)
	}
	if err := r.boot.Stage(ctx, []boot.Staged{r.release(boot.Normal, 3)}); !errors.Is(err, boot.ErrBusy) {
		t.Fatalf("second stage while one is pending: %v", err)
	}
	res, err = r.reboot()
	if err != nil || seqs(res) != [2]uint64{2, 2} || !res.Trial {
		t.Fatalf("trial boot: %v %+v", err, res)
	}
	// Not confirmed: the next reset reverts to the old pair.
	res, err = r.reboot()
	if err != nil || seqs(res) != [2]uint64{1, 1} || res.Trial || res.Outcome != boot.OutcomeReverted {
		t.Fatalf("revert: %v %+v", err, res)
	}

	// Again, and accept this time: the counters move and the old pair is gone.
	if err := r.boot.Stage(ctx, []boot.Staged{r.release(boot.Secure, 2), r.release(boot.Normal, 2)}); err != nil {
		t.Fatal(err)
	}
	if res, err = r.reboot(); err != nil || !res.Trial {
		t.Fatalf("trial boot: %v %+v", err, res)
	}
	if err := r.boot.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.boot.Accept(ctx); !errors.Is(err, boot.ErrNoTrial) {
		t.Fatalf("second accept: %v", err)
	}
	for _, c := range boot.Components {
		if n, _ := r.boot.Counter(c); n != 2 {
			t.Errorf("%s counter %d after accept, want 2", c, n)
		}
	}
	res, err = r.reboot()
	if err != nil || seqs(res) != [2]uint64{2, 2} || res.Trial {
		t.Fatalf("after accept: %v %+v", err, res)
	}

	// A normal-only update leaves the secure image alone.
	if err := r.boot.Stage(ctx, []boot.Staged{r.release(boot.Normal, 3)}); err != nil {
		t.Fatal(err)
	}
	if res, err = r.reboot(); err != nil || seqs(res) != [2]uint64{2, 3} || !res.Trial {
		t.Fatalf("normal-only trial: %v %+v", err, res)
	}
	if err := r.boot.Reject(ctx); err != nil {
		t.Fatal(err)
	}
	if res, err = r.reboot(); err != nil || seqs(res) != [2]uint64{2, 2} {
		t.Fatalf("after reject: %v %+v", err, res)
	}
}

// TestAttacksRefused: each attack is refused, and the device keeps booting
// its old pair, and the next honest update works.
func TestAttacksRefused(t *testing.T) {
	ctx := context.Background()
	otherKey, _ := suit.GenerateSigningKey(suit.AlgES256)
	tests := []struct {
		name   string
		attack func(r *rig) error // returns the error the attack met
		want   error
	}{
		{"lower sequence number", func(r *rig) error {
			r.acceptUpdate(2)
			return r.boot.Stage(ctx, []boot.Staged{r.release(boot.Normal, 1)})
		}, suit.ErrRollback},
		{"manifest signed by a key not authorized for the component", func(r *rig) error {
			img := boottest.Image(boot.Normal, 5, 900)
			env, err := boottest.Envelope(boot.Normal, 5, img, r.signers.Operator)
			if err != nil {
				return err
			}
			return r.boot.Stage(ctx, []boot.Staged{{Component: boot.Normal, Envelope: env, Image: img}})
		}, keys.ErrUnauthorized},
		{"secure image without the operator's co-signature", func(r *rig) error {
			img := boottest.Image(boot.Secure, 5, 900)
			env, err := boottest.Envelope(boot.Secure, 5, img, r.signers.Author)
			if err != nil {
				return err
			}
			return r.boot.Stage(ctx, []boot.Staged{{Component: boot.Secure, Envelope: env, Image: img}})
		}, keys.ErrUnauthorized},
		{"manifest signed by an unknown key", func(r *rig) error {
			img := boottest.Image(boot.Normal, 5, 900)
			env, err := boottest.Envelope(boot.Normal, 5, img, otherKey)
			if err != nil {
				return err
			}
			return r.boot.Stage(ctx, []boot.Staged{{Component: boot.Normal, Envelope: env, Image: img}})
		}, suit.ErrBadSignature},
		{"image that does not match its manifest", func(r *rig) error {
			s := r.release(boot.Normal, 5)
			s.Image = append(bytes.Clone(s.Image[:len(s.Image)-1]), s.Image[len(s.Image)-1]^1)
			return r.boot.Stage(ctx, []boot.Staged{s})
		}, suit.ErrImageMismatch},
		{"flipped bit in a staged image before the reboot", func(r *rig) error {
			if err := r.boot.Stage(ctx, []boot.Staged{r.release(boot.Secure, 2), r.release(boot.Normal, 2)}); err != nil {
				return err
			}
			r.flipBit(boot.Normal, true)
			res, err := r.reboot()
			if err != nil {
				return err
			}
			if res.Outcome != boot.OutcomeRefused {
				r.t.Errorf("outcome %s, want refused", res.Outcome)
			}
			return res.Refused
		}, suit.ErrImageMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			before, err := r.reboot()
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.attack(r); !errors.Is(err, tc.want) {
				t.Fatalf("attack met %v, want %v", err, tc.want)
			}
			after, err := r.reboot()
			if err != nil {
				t.Fatalf("boot after the attack: %v", err)
			}
			if seqs(after) != seqs(r.expectBoot(before)) || after.Trial {
				t.Fatalf("after the attack the device boots %v (trial %v)", seqs(after), after.Trial)
			}
			// The next honest update works.
			next := seqs(after)[1] + 10
			if err := r.boot.Stage(ctx, []boot.Staged{r.release(boot.Normal, next)}); err != nil {
				t.Fatalf("honest update after the attack: %v", err)
			}
			if res, err := r.reboot(); err != nil || seqs(res)[1] != next {
				t.Fatalf("honest update boots %v, %v", res, err)
			}
		})
	}
}

// expectBoot is the pair the device must boot after an attack: what it
// booted before, unless the attack's own setup accepted an update.
func (r *rig) expectBoot(before *boot.Result) *boot.Result {
	res, err := r.boot.Status(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return &boot.Result{Images: []*boot.Image{res.Components[0].Primary.Image, res.Components[1].Primary.Image}}
}

func (r *rig) acceptUpdate(seq uint64) {
	r.t.Helper()
	ctx := context.Background()
	if err := r.boot.Stage(ctx, []boot.Staged{r.release(boot.Secure, seq), r.release(boot.Normal, seq)}); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.reboot(); err != nil {
		r.t.Fatal(err)
	}
	if err := r.boot.Accept(ctx); err != nil {
		r.t.Fatal(err)
	}
}

// flipBit flips one bit of the image in a slot, as an attacker with raw
// flash access would: the flash model only clears bits, so the sector is
// read, erased and written back with the bit changed.
func (r *rig) flipBit(c boot.Component, secondary bool) {
	r.t.Helper()
	l := testLayout
	slot := int64(1 + 2*int(c)*l.SlotSectors)
	if secondary {
		slot += int64(l.SlotSectors)
	}
	off := (slot + 1) * int64(l.SectorSize) // first image sector
	buf := make([]byte, l.SectorSize)
	if err := r.Flash.Read(off, buf); err != nil {
		r.t.Fatal(err)
	}
	buf[10] ^= 0x04
	if err := r.Flash.EraseSector(off); err != nil {
		r.t.Fatal(err)
	}
	if err := r.Flash.Program(off, buf); err != nil {
		r.t.Fatal(err)
	}
}

func TestCorruptPrimaryDoesNotBoot(t *testing.T) {
	r := newRig(t)
	r.acceptUpdate(2) // secondaries now hold the old pair, below the counters
	r.flipBit(boot.Normal, false)
	_, err := r.reboot()
	if !errors.Is(err, boot.ErrNoBootableImage) {
		t.Fatalf("boot with a corrupt primary and only an older secondary: %v", err)
	}
}

func TestCorruptPrimaryFallsBackToVerifiedSecondary(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	// Stage and revert: the secondaries then hold sequence 2, which the
	// counters (still 1) allow.
	if err := r.boot.Stage(ctx, []boot.Staged{r.release(boot.Normal, 2)}); err != nil {
		t.Fatal(err)
	}
	r.reboot()
	if res, err := r.reboot(); err != nil || res.Outcome != boot.OutcomeReverted {
		t.Fatalf("revert: %v %+v", err, res)
	}
	r.flipBit(boot.Normal, false)
	res, err := r.reboot()
	if err != nil || res.Outcome != boot.OutcomeFellBack || seqs(res) != [2]uint64{1, 2} {
		t.Fatalf("fallback: %v %+v", err, res)
	}
}
