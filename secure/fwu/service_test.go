package fwu_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/fwu"
	"github.com/teeup/teeup/secure/fwu/fwutest"
	"github.com/teeup/teeup/secure/suit"
)

type rig struct {
	t       *testing.T
	dev     *fwutest.Device
	svc     *fwu.Service
	signers *fwutest.Signers
}

func newRig(t *testing.T) *rig {
	t.Helper()
	d := fwutest.New(t, fwutest.SmallLayout)
	r := &rig{t: t, dev: d, signers: d.Signers}
	r.reboot()
	return r
}

// reboot power-cycles the device; the secure world restarts with a new service.
func (r *rig) reboot() *boot.Result {
	r.t.Helper()
	res, err := r.dev.Reboot(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	if r.svc, err = r.dev.NewService(fwu.Config{}); err != nil {
		r.t.Fatal(err)
	}
	return res
}

func (r *rig) release(c boot.Component, seq uint64) boot.Staged {
	r.t.Helper()
	return r.signers.Release(r.t, c, seq, fwutest.BuiltinImage(c, seq, 3000+int(seq)))
}

// update streams a release through the service in chunks of n bytes.
func (r *rig) update(rels []boot.Staged, n int) (uint64, error) {
	ctx := context.Background()
	var set uint64
	for _, rel := range rels {
		id, reqs, err := r.svc.StartUpdate(ctx, rel.Envelope)
		if err != nil {
			return 0, err
		}
		set = id
		for _, q := range reqs {
			if q.Size != uint64(len(rel.Image)) {
				r.t.Fatalf("request for %d bytes, image has %d", q.Size, len(rel.Image))
			}
			for off := 0; off < len(rel.Image); off += n {
				if err := r.svc.WriteChunk(ctx, id, q.Index, uint64(off), rel.Image[off:min(off+n, len(rel.Image))]); err != nil {
					return 0, err
				}
			}
			if err := r.svc.Finish(ctx, id, q.Index); err != nil {
				return 0, err
			}
		}
	}
	return set, r.svc.Install(ctx, set)
}

func (r *rig) states() map[string]fwu.State {
	r.t.Helper()
	infos, err := r.svc.Query(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	m := map[string]fwu.State{}
	for _, i := range infos {
		m[string(i.ID[0])] = i.State
	}
	return m
}

func TestUpdateLifecycle(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	if st := r.states(); st["secure"] != fwu.Ready || st["normal"] != fwu.Ready {
		t.Fatalf("initial states %v", st)
	}
	if _, err := r.update([]boot.Staged{r.release(boot.Secure, 2), r.release(boot.Normal, 2)}, 1000); err != nil {
		t.Fatal(err)
	}
	if st := r.states(); st["secure"] != fwu.Staged || st["normal"] != fwu.Staged {
		t.Fatalf("after install %v", st)
	}
	if _, _, err := r.svc.StartUpdate(ctx, r.release(boot.Normal, 3).Envelope); !errors.Is(err, fwu.ErrBusy) {
		t.Fatalf("start while staged: %v", err)
	}
	res := r.reboot()
	if !res.Trial || res.Images[0].SequenceNumber != 2 || res.Images[1].SequenceNumber != 2 {
		t.Fatalf("trial boot %+v", res)
	}
	if st := r.states(); st["secure"] != fwu.Trial || st["normal"] != fwu.Trial {
		t.Fatalf("in trial %v", st)
	}
	if err := r.svc.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.states(); st["secure"] != fwu.Updated || st["normal"] != fwu.Updated {
		t.Fatalf("after accept %v", st)
	}
	// A rejected trial reverts.
	if _, err := r.update([]boot.Staged{r.release(boot.Normal, 3)}, 512); err != nil {
		t.Fatal(err)
	}
	r.reboot()
	if err := r.svc.Reject(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.states(); st["normal"] != fwu.Rejected {
		t.Fatalf("after reject %v", st)
	}
	if res := r.reboot(); res.Images[1].SequenceNumber != 2 || res.Trial {
		t.Fatalf("after reject the device boots %+v", res)
	}
}

// TestHostileNormalWorld: whatever the normal world sends, the device
// keeps booting its old pair and the next honest update works.
func TestHostileNormalWorld(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		attack func(r *rig) error
		want   error
	}{
		{"altered manifest bytes", func(r *rig) error {
			env := bytes.Clone(r.release(boot.Normal, 2).Envelope)
			env[len(env)/2] ^= 1
			_, _, err := r.svc.StartUpdate(ctx, env)
			return err
		}, suit.ErrRejected},
		{"old manifest replayed", func(r *rig) error {
			if _, err := r.update([]boot.Staged{r.release(boot.Normal, 2)}, 1000); err != nil {
				return err
			}
			r.reboot()
			if err := r.svc.Accept(ctx); err != nil {
				return err
			}
			_, _, err := r.svc.StartUpdate(ctx, r.release(boot.Normal, 1).Envelope)
			return err
		}, suit.ErrRollback},
		{"chunks reordered", func(r *rig) error {
			rel := r.release(boot.Normal, 2)
			set, reqs, err := r.svc.StartUpdate(ctx, rel.Envelope)
			if err != nil {
				return err
			}
			return r.svc.WriteChunk(ctx, set, reqs[0].Index, 1000, rel.Image[1000:2000])
		}, fwu.ErrOutOfRange},
		{"chunks overlapping", func(r *rig) error {
			rel := r.release(boot.Normal, 2)
			set, reqs, _ := r.svc.StartUpdate(ctx, rel.Envelope)
			if err := r.svc.WriteChunk(ctx, set, reqs[0].Index, 0, rel.Image[:1000]); err != nil {
				return err
			}
			return r.svc.WriteChunk(ctx, set, reqs[0].Index, 500, rel.Image[500:1500])
		}, fwu.ErrOutOfRange},
		{"chunk past the declared size", func(r *rig) error {
			rel := r.release(boot.Normal, 2)
			set, reqs, _ := r.svc.StartUpdate(ctx, rel.Envelope)
			return r.svc.WriteChunk(ctx, set, reqs[0].Index, 0, append(bytes.Clone(rel.Image), 0))
		}, fwu.ErrOutOfRange},
		{"payload that does not match its digest", func(r *rig) error {
			rel := r.release(boot.Normal, 2)
			rel.Image = bytes.Clone(rel.Image)
			rel.Image[7] ^= 1
			_, err := r.update([]boot.Staged{rel}, 1000)
			return err
		}, suit.ErrImageMismatch},
		{"install before finish", func(r *rig) error {
			rel := r.release(boot.Normal, 2)
			set, reqs, _ := r.svc.StartUpdate(ctx, rel.Envelope)
			r.svc.WriteChunk(ctx, set, reqs[0].Index, 0, rel.Image[:100])
			return r.svc.Install(ctx, set)
		}, fwu.ErrBadState},
		{"finish before all bytes", func(r *rig) error {
			rel := r.release(boot.Normal, 2)
			set, reqs, _ := r.svc.StartUpdate(ctx, rel.Envelope)
			r.svc.WriteChunk(ctx, set, reqs[0].Index, 0, rel.Image[:100])
			return r.svc.Finish(ctx, set, reqs[0].Index)
		}, fwu.ErrBadState},
		{"accept with no trial", func(r *rig) error { return r.svc.Accept(ctx) }, fwu.ErrBadState},
		{"reject with no trial", func(r *rig) error { return r.svc.Reject(ctx) }, fwu.ErrBadState},
		{"chunk for another set", func(r *rig) error {
			rel := r.release(boot.Normal, 2)
			set, reqs, _ := r.svc.StartUpdate(ctx, rel.Envelope)
			return r.svc.WriteChunk(ctx, set+1, reqs[0].Index, 0, rel.Image[:10])
		}, fwu.ErrNotFound},
		{"secure image without the operator", func(r *rig) error {
			img := fwutest.BuiltinImage(boot.Secure, 2, 500)
			env := fwutest.Envelope(t, boot.Secure, 2, img, r.signers.Author)
			_, _, err := r.svc.StartUpdate(ctx, env)
			return err
		}, suit.ErrRejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			err := tc.attack(r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("attack met %v, want %v", err, tc.want)
			}
			before, _ := r.svc.Query(ctx)
			res := r.reboot()
			if res.Trial || res.Images[1].SequenceNumber != before[1].SequenceNumber {
				t.Fatalf("after the attack the device boots %+v (trial %v)", res.Images[1], res.Trial)
			}
			next := before[1].SequenceNumber + 5
			if _, err := r.update([]boot.Staged{r.release(boot.Normal, next)}, 700); err != nil {
				t.Fatalf("honest update after the attack: %v", err)
			}
			if res := r.reboot(); res.Images[1].SequenceNumber != next {
				t.Fatalf("honest update boots %d: %+v refused %v", res.Images[1].SequenceNumber, res, res.Refused)
			}
		})
	}
}
