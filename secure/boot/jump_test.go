package boot_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/boot/boottest"
	"github.com/teeup/teeup/secure/suit"
)

// releaseSized is release with an image size that does not depend on the
// sequence number, for sequence numbers far beyond an image's size.
func (r *rig) releaseSized(c boot.Component, seq uint64, size int) boot.Staged {
	r.t.Helper()
	s, err := r.signers.Release(c, seq, boottest.Image(c, seq, size))
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// TestSequenceNumberJump updates both images to a sequence number far above
// the counters (a UTC timestamp, as draft-ietf-suit-manifest-37 §8.4.2
// allows; just past the old 65,536 bound; the top of uint64): the trial
// boots, accept raises the counters at once, the new pair boots confirmed,
// and nothing older runs again, not even from a flash copied back from
// before the update.
func TestSequenceNumberJump(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		seq  uint64
	}{
		{"just past 65536", 65538},
		{"UTC timestamp", 1764765716},
		{"top of uint64", math.MaxUint64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			if _, err := r.reboot(); err != nil {
				t.Fatal(err)
			}
			factory := r.snapshot()
			set := []boot.Staged{r.releaseSized(boot.Secure, tc.seq, 1900), r.releaseSized(boot.Normal, tc.seq, 1800)}
			if err := r.boot.Stage(ctx, set); err != nil {
				t.Fatalf("stage: %v", err)
			}
			res, err := r.reboot()
			if err != nil || seqs(res) != [2]uint64{tc.seq, tc.seq} || !res.Trial {
				t.Fatalf("trial boot: %v %+v", err, res)
			}
			if err := r.boot.Accept(ctx); err != nil {
				t.Fatalf("accept: %v", err)
			}
			for _, c := range boot.Components {
				if n, err := r.boot.Counter(c); err != nil || n != tc.seq {
					t.Errorf("%s counter %d (%v) after accept, want %d", c, n, err, tc.seq)
				}
			}
			if state, _, err := r.boot.Operation(); err != nil || state != "idle" {
				t.Fatalf("journal after accept: %q %v", state, err)
			}
			res, err = r.reboot()
			if err != nil || seqs(res) != [2]uint64{tc.seq, tc.seq} || res.Trial {
				t.Fatalf("boot after accept: %v %+v", err, res)
			}
			// The old release again, and one just below the counter: refused.
			for _, seq := range []uint64{1, tc.seq - 1} {
				err := r.boot.Stage(ctx, []boot.Staged{r.releaseSized(boot.Normal, seq, 1700)})
				if !errors.Is(err, suit.ErrRollback) {
					t.Fatalf("stage of sequence %d after the jump: %v", seq, err)
				}
			}
			// The whole flash as it was before the update: its images are
			// below the TPM's counters and do not run.
			r.restore(factory)
			if res, err := r.reboot(); !errors.Is(err, boot.ErrNoBootableImage) {
				t.Fatalf("boot of the copied-back flash: %v %+v", err, res)
			}
		})
	}
}

// snapshot reads the whole flash.
func (r *rig) snapshot() []byte {
	r.t.Helper()
	b := make([]byte, testLayout.Size())
	if err := r.Flash.Read(0, b); err != nil {
		r.t.Fatal(err)
	}
	return b
}

// restore writes a snapshot back, as an attacker with a flash programmer would.
func (r *rig) restore(b []byte) {
	r.t.Helper()
	ss := int64(testLayout.SectorSize)
	for off := int64(0); off < int64(len(b)); off += ss {
		if err := r.Flash.EraseSector(off); err != nil {
			r.t.Fatal(err)
		}
		if err := r.Flash.Program(off, b[off:off+ss]); err != nil {
			r.t.Fatal(err)
		}
	}
}
