package rollout_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/tamtest"
)

// fleet is a TAM with n light devices, all in group "all", and an author.
type fleet struct {
	t      *testing.T
	tam    *tamtest.TAM
	ev     *tamtest.Evidence
	author *tamtest.Author
	devs   map[string]*tamtest.Device
}

func newFleet(t *testing.T, n int, opts func(i int) tamtest.DeviceOptions) *fleet {
	t.Helper()
	f := &fleet{t: t, tam: tamtest.NewTAM(t, tamtest.Options{Seed: 1}), ev: tamtest.NewEvidence(t),
		author: tamtest.NewAuthor(t), devs: map[string]*tamtest.Device{}}
	var ids []string
	for i := range n {
		var o tamtest.DeviceOptions
		if opts != nil {
			o = opts(i)
		}
		d := f.tam.NewDevice(t, f.ev, []*suit.Key{f.author.Pub}, o)
		f.devs[d.ID] = d
		ids = append(ids, d.ID)
	}
	if _, err := f.tam.Rollout.AddGroup(t.Context(), store.Group{Name: "all", Members: ids}); err != nil {
		t.Fatal(err)
	}
	return f
}

// release publishes held envelopes and makes them release name.
func (f *fleet) release(name string, envs ...store.Envelope) {
	f.t.Helper()
	var ds [][]byte
	for _, e := range envs {
		ds = append(ds, e.Digest)
	}
	if _, err := f.tam.Rollout.AddRelease(f.t.Context(), name, ds); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fleet) create(release, waves string, success, errs int) store.Rollout {
	f.t.Helper()
	ws, err := rollout.ParseWaves(waves)
	if err != nil {
		f.t.Fatal(err)
	}
	r, err := f.tam.Rollout.Create(f.t.Context(), rollout.Spec{Group: "all", Release: release, Waves: ws,
		SuccessThreshold: success, ErrorThreshold: errs})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// wave is the devices of a rollout's wave, by ID.
func (f *fleet) wave(id string, wave int) []*tamtest.Device {
	f.t.Helper()
	dels, err := f.tam.Store.Deliveries(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []*tamtest.Device
	for _, d := range dels {
		if d.Wave == wave {
			out = append(out, f.devs[d.Device])
		}
	}
	return out
}

// all is every device, by ID.
func (f *fleet) all(id string) []*tamtest.Device {
	f.t.Helper()
	r, err := f.tam.Store.Rollout(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []*tamtest.Device
	for w := range r.Waves {
		out = append(out, f.wave(id, w)...)
	}
	return out
}

// sessions runs one session of each device, in order, and counts the
// Updates they received.
func (f *fleet) sessions(devs ...*tamtest.Device) int {
	f.t.Helper()
	updates := 0
	for _, d := range devs {
		out, err := d.Session(context.Background())
		if err != nil {
			f.t.Fatalf("session of %s: %v", d.ID, err)
		}
		updates += out.Updates
	}
	return updates
}

func (f *fleet) progress(id string) rollout.Progress {
	f.t.Helper()
	p, err := f.tam.Rollout.Progress(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// want fails unless the rollout is in state at wave with the counts per
// wave given as "pending/sent/installed/succeeded/failed".
func (f *fleet) want(id string, state store.RolloutState, wave int, counts ...string) {
	f.t.Helper()
	p := f.progress(id)
	var got []string
	for _, w := range p.Waves {
		got = append(got, fmt.Sprintf("%d/%d/%d/%d/%d", w.Pending, w.Sent, w.Installed, w.Succeeded, w.Failed))
	}
	if p.Rollout.State != state || p.Rollout.Wave != wave || fmt.Sprint(got) != fmt.Sprint(counts) {
		f.t.Fatalf("rollout %s at wave %d, counts %v (%s); want %s at wave %d, counts %v",
			p.Rollout.State, p.Rollout.Wave, got, p.Rollout.Reason, state, wave, counts)
	}
}

// runs fails unless every device of devs runs component c at seq (or,
// seq 0, does not run it).
func runs(t *testing.T, c suit.ComponentID, seq uint64, devs ...*tamtest.Device) {
	t.Helper()
	for _, d := range devs {
		got, ok := d.TCs.Runs(c)
		if seq == 0 && ok || seq != 0 && got != seq {
			t.Fatalf("device %s runs %s at %d (%v), want %d", d.ID, c, got, ok, seq)
		}
	}
}

// create0 is a rollout over all devices of a release of its own, for a
// test that needs the devices sorted by ID.
func (f *fleet) create0() string {
	f.t.Helper()
	f.release("sorted", f.author.Publish(f.t, f.tam, store.TAEnvelope, tamtest.ID("ta", "sorted"), 1, true))
	return f.create("sorted", "100%", 100, 100).ID
}
