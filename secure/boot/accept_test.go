package boot_test

import (
	"context"
	"errors"
	"testing"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/boot/boottest"
)

// brokenCounters fails every raise while broken, as a TPM that cannot save
// its NV (the emulator's on a full disk) does.
type brokenCounters struct {
	boot.Counters
	broken *bool
}

var errNVUnavailable = errors.New("TPM NV unavailable")

func (c brokenCounters) AdvanceCounterTo(comp boot.Component, v uint64) error {
	if *c.broken {
		return errNVUnavailable
	}
	return c.Counters.AdvanceCounterTo(comp, v)
}

// TestAcceptWhenCountersFail: the counters fail to rise during an accept,
// after the confirming record. The accept stands and says so; the next
// boot (counters working again) raises them and boots the new pair
// confirmed; with the counters still broken, that boot fails rather than
// run anything. The old pair never comes back.
func TestAcceptWhenCountersFail(t *testing.T) {
	for _, stillBroken := range []bool{false, true} {
		t.Run(map[bool]string{false: "counters back", true: "counters still broken"}[stillBroken], func(t *testing.T) {
			acceptWhenCountersFail(t, stillBroken)
		})
	}
}

func acceptWhenCountersFail(t *testing.T, stillBroken bool) {
	ctx := context.Background()
	broken := new(bool)
	br := boottest.New(t, testLayout, false, boottest.WithCounters(func(c boot.Counters) boot.Counters {
		return brokenCounters{c, broken}
	}))
	r := &rig{t: t, Rig: br, tpm: br.TPM, boot: br.Boot, signers: br.Signers}
	if err := r.boot.Provision(ctx, []boot.Staged{r.release(boot.Secure, 1), r.release(boot.Normal, 1)}); err != nil {
		t.Fatal(err)
	}
	if err := r.boot.Stage(ctx, []boot.Staged{r.release(boot.Normal, 2)}); err != nil {
		t.Fatal(err)
	}
	if res, err := r.reboot(); err != nil || !res.Trial {
		t.Fatalf("trial: %v %+v", err, res)
	}
	*broken = true
	if err := r.boot.Accept(ctx); err != nil {
		t.Fatalf("accept with the counters failing after the confirming record: %v", err)
	}
	if state, _, err := r.boot.Operation(); err != nil || state != "confirming" {
		t.Fatalf("after the accept: %q, %v", state, err)
	}
	*broken = stillBroken
	res, err := r.reboot()
	if stillBroken {
		if !errors.Is(err, errNVUnavailable) {
			t.Fatalf("boot with the counters still broken: %v %+v", err, res)
		}
		*broken = false
		res, err = r.reboot()
	}
	if err != nil || seqs(res) != [2]uint64{1, 2} || res.Trial || res.Outcome != boot.OutcomeConfirmed {
		t.Fatalf("boot after the accept: %v %+v", err, res)
	}
	if n, err := r.boot.Counter(boot.Normal); err != nil || n != 2 {
		t.Fatalf("normal counter %d, %v", n, err)
	}
}
