package fwu_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/fwu"
	"github.com/teeup/teeup/secure/suit"
)

// fakeClock is a clock that moves only when the test says so.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// withClock replaces the rig's service by one on clk with the stall
// timeout stall, over the same bootloader and storage.
func (r *rig) withClock(clk *fakeClock, stall time.Duration) {
	r.t.Helper()
	var err error
	if r.svc, err = r.dev.NewService(fwu.Config{Now: clk.Now, StallTimeout: stall}); err != nil {
		r.t.Fatal(err)
	}
}

// assertNothingCommittable checks that the staging slot of c holds no
// image that the bootloader would commit.
func (r *rig) assertNothingCommittable(c boot.Component) {
	r.t.Helper()
	if img, err := r.dev.Boot.VerifyStaged(context.Background(), c); err == nil {
		r.t.Fatalf("the staging slot of %s still holds a committable image (sequence %d)", c, img.SequenceNumber)
	}
	if err := r.dev.Boot.Commit(context.Background(), []boot.Component{c}); err == nil {
		r.t.Fatalf("the bootloader committed what the cancelled set left in %s", c)
	}
}

// honestUpdate runs an update of the normal image to seq without a
// reboot first, and checks the device boots it in trial.
func (r *rig) honestUpdate(seq uint64) {
	r.t.Helper()
	if _, err := r.update([]boot.Staged{r.release(boot.Normal, seq)}, 700); err != nil {
		r.t.Fatalf("honest update: %v", err)
	}
	if res := r.reboot(); !res.Trial || res.Images[1].SequenceNumber != seq {
		r.t.Fatalf("the honest update boots %+v (trial %v)", res.Images[1], res.Trial)
	}
}

// TestCancelThenHonestUpdate leaves an install set at each point where an
// update fails in the field, checks that it blocks the next update
// (ErrBusy) until cancelled, cancels it, and checks that nothing it wrote
// can be committed and that the next honest update works without a reboot.
func TestCancelThenHonestUpdate(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// leave starts an update and leaves it at its failure point; it
		// returns the set.
		leave func(r *rig) uint64
	}{
		{"second envelope refused", func(r *rig) uint64 {
			rel := r.release(boot.Normal, 2)
			set, _, err := r.svc.StartUpdate(ctx, rel.Envelope)
			if err != nil {
				t.Fatal(err)
			}
			bad := bytes.Clone(r.release(boot.Secure, 2).Envelope)
			bad[len(bad)/2] ^= 1
			if _, _, err := r.svc.StartUpdate(ctx, bad); !errors.Is(err, suit.ErrRejected) {
				t.Fatalf("altered second envelope: %v", err)
			}
			return set
		}},
		{"payload never arrives (404, unreachable, missing file)", func(r *rig) uint64 {
			set, _, err := r.svc.StartUpdate(ctx, r.release(boot.Normal, 2).Envelope)
			if err != nil {
				t.Fatal(err)
			}
			return set
		}},
		{"truncated payload", func(r *rig) uint64 {
			rel := r.release(boot.Normal, 2)
			set, reqs, err := r.svc.StartUpdate(ctx, rel.Envelope)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.svc.WriteChunk(ctx, set, reqs[0].Index, 0, rel.Image[:len(rel.Image)/2]); err != nil {
				t.Fatal(err)
			}
			if err := r.svc.Finish(ctx, set, reqs[0].Index); !errors.Is(err, fwu.ErrBadState) {
				t.Fatalf("finish of half a payload: %v", err)
			}
			return set
		}},
		{"finished, never installed", func(r *rig) uint64 {
			rel := r.release(boot.Normal, 2)
			set, reqs, err := r.svc.StartUpdate(ctx, rel.Envelope)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.svc.WriteChunk(ctx, set, reqs[0].Index, 0, rel.Image); err != nil {
				t.Fatal(err)
			}
			if err := r.svc.Finish(ctx, set, reqs[0].Index); err != nil {
				t.Fatal(err)
			}
			return set
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			set := tc.leave(r)
			if _, _, err := r.svc.StartUpdate(ctx, r.release(boot.Normal, 3).Envelope); !errors.Is(err, fwu.ErrBusy) {
				t.Fatalf("next update before the cancel: %v, want ErrBusy", err)
			}
			if err := r.svc.Cancel(ctx, set+1); !errors.Is(err, fwu.ErrNotFound) {
				t.Fatalf("cancel of another set: %v, want ErrNotFound", err)
			}
			if err := r.svc.Cancel(ctx, set); err != nil {
				t.Fatalf("cancel: %v", err)
			}
			if st := r.states(); st["normal"] != fwu.Ready || st["secure"] != fwu.Ready {
				t.Fatalf("after the cancel %v", st)
			}
			if err := r.svc.WriteChunk(ctx, set, 0, 0, []byte{0}); !errors.Is(err, fwu.ErrNotFound) {
				t.Fatalf("chunk for the cancelled set: %v, want ErrNotFound", err)
			}
			r.assertNothingCommittable(boot.Normal)
			if err := r.svc.Cancel(ctx, 0); err != nil {
				t.Fatalf("cancel with nothing in progress: %v", err)
			}
			r.honestUpdate(3)
		})
	}
}

// TestStalledSetAbandoned: a set that makes no progress for the stall
// timeout is abandoned by the service itself; one that progresses is not.
func TestStalledSetAbandoned(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	r.withClock(clk, time.Minute)
	rel := r.release(boot.Normal, 2)
	set, reqs, err := r.svc.StartUpdate(ctx, rel.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	// Progress at less than the timeout keeps the set alive.
	for off := 0; off < 3000; off += 1000 {
		clk.Advance(59 * time.Second)
		if err := r.svc.WriteChunk(ctx, set, reqs[0].Index, uint64(off), rel.Image[off:off+1000]); err != nil {
			t.Fatalf("chunk at %d after 59 s: %v", off, err)
		}
	}
	clk.Advance(59 * time.Second)
	if _, _, err := r.svc.StartUpdate(ctx, r.release(boot.Normal, 3).Envelope); !errors.Is(err, fwu.ErrBusy) {
		t.Fatalf("update while the set progresses: %v, want ErrBusy", err)
	}
	// A minute without progress: abandoned, nothing of it committable.
	clk.Advance(time.Second)
	if err := r.svc.WriteChunk(ctx, set, reqs[0].Index, 3000, rel.Image[3000:3001]); !errors.Is(err, fwu.ErrNotFound) {
		t.Fatalf("chunk for the stalled set: %v, want ErrNotFound", err)
	}
	r.assertNothingCommittable(boot.Normal)
	r.withClock(clk, time.Minute) // a restart keeps nothing either way
	r.honestUpdate(3)
}

// TestStalledFinishedSetAbandoned: a set whose payload is finished but
// which is never installed is abandoned too, its image erased.
func TestStalledFinishedSetAbandoned(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	r.withClock(clk, 2*time.Minute)
	rel := r.release(boot.Normal, 2)
	set, reqs, err := r.svc.StartUpdate(ctx, rel.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.svc.WriteChunk(ctx, set, reqs[0].Index, 0, rel.Image); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Finish(ctx, set, reqs[0].Index); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	if st := r.states(); st["normal"] != fwu.Ready {
		t.Fatalf("after the stall %v", st)
	}
	if err := r.svc.Install(ctx, set); !errors.Is(err, fwu.ErrNotFound) {
		t.Fatalf("install of the abandoned set: %v, want ErrNotFound", err)
	}
	r.assertNothingCommittable(boot.Normal)
	r.honestUpdate(3)
}

// TestClean: clean erases a failed set's staging and is refused while a
// set is being written or is installed.
func TestClean(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	if err := r.svc.Clean(ctx); err != nil {
		t.Fatalf("clean of an idle device: %v", err)
	}
	rel := r.release(boot.Normal, 2)
	set, reqs, err := r.svc.StartUpdate(ctx, rel.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Clean(ctx); !errors.Is(err, fwu.ErrBusy) {
		t.Fatalf("clean while a set is written: %v, want ErrBusy", err)
	}
	bad := bytes.Clone(rel.Image)
	bad[5] ^= 1
	if err := r.svc.WriteChunk(ctx, set, reqs[0].Index, 0, bad); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Finish(ctx, set, reqs[0].Index); !errors.Is(err, suit.ErrImageMismatch) {
		t.Fatalf("finish of an altered payload: %v", err)
	}
	if err := r.svc.Clean(ctx); err != nil {
		t.Fatalf("clean of a failed set: %v", err)
	}
	if err := r.svc.Install(ctx, set); !errors.Is(err, fwu.ErrNotFound) {
		t.Fatalf("install after clean: %v, want ErrNotFound", err)
	}
	r.assertNothingCommittable(boot.Normal)
	if _, err := r.update([]boot.Staged{r.release(boot.Normal, 3)}, 700); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Clean(ctx); !errors.Is(err, fwu.ErrBusy) {
		t.Fatalf("clean while a set is staged: %v, want ErrBusy", err)
	}
	if res := r.reboot(); !res.Trial || res.Images[1].SequenceNumber != 3 {
		t.Fatalf("the staged set boots %+v", res.Images[1])
	}
}
