package rollout_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/postgres"
	"github.com/teeup/teeup/tam/store/postgres/pgtest"
	"github.com/teeup/teeup/tam/tamtest"
)

// Issue 15's acceptance: a rollout over 1,000 light devices in 3 waves,
// on SQLite and, when TEEUP_TEST_POSTGRES names a server, on PostgreSQL.
// Under -short the fleet is 200 devices (the same waves as shares).

// fleetSize is the acceptance's 1,000 devices, 200 under -short.
func fleetSize() int {
	if testing.Short() {
		return 200
	}
	return 1000
}

// backends are the stores the acceptance runs on: SQLite (the kit's
// default, nil) and PostgreSQL when the test kit has a server.
var backends = []struct {
	name  string
	store func(t *testing.T) store.Store
}{
	{"sqlite", func(*testing.T) store.Store { return nil }},
	{"postgres", func(t *testing.T) store.Store {
		s, err := postgres.Open(t.Context(), pgtest.Database(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

// newFleetOn is newFleet on st (nil: SQLite).
func newFleetOn(t *testing.T, st store.Store, n int) *fleet {
	t.Helper()
	f := &fleet{t: t, tam: tamtest.NewTAM(t, tamtest.Options{Store: st, Seed: 15}), ev: tamtest.NewEvidence(t),
		author: tamtest.NewAuthor(t), devs: map[string]*tamtest.Device{}}
	ids := make([]string, 0, n)
	for range n {
		d := f.tam.NewDevice(t, f.ev, []*suit.Key{f.author.Pub}, tamtest.DeviceOptions{})
		f.devs[d.ID] = d
		ids = append(ids, d.ID)
	}
	if _, err := f.tam.Rollout.AddGroup(t.Context(), store.Group{Name: "all", Members: ids}); err != nil {
		t.Fatal(err)
	}
	return f
}

// concurrently runs one session of each device, 16 at a time (one
// device runs one session at a time, as a real one does), and counts
// the Updates, the Successes and the Errors they answered.
func (f *fleet) concurrently(devs []*tamtest.Device) (updates, successes, errs int) {
	f.t.Helper()
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		first error
	)
	work := make(chan *tamtest.Device)
	for range 16 {
		wg.Go(func() {
			for d := range work {
				out, err := d.Session(context.Background())
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("session of %s: %w", d.ID, err)
				}
				updates += out.Updates
				if out.Success {
					successes++
				}
				if out.Error {
					errs++
				}
				mu.Unlock()
			}
		})
	}
	for _, d := range devs {
		work <- d
	}
	close(work)
	wg.Wait()
	if first != nil {
		f.t.Fatal(first)
	}
	return updates, successes, errs
}

// TestFleetRolloutCompletes: 1,000 devices in waves of 10%, 40% and the
// rest. Each wave's devices get the release only once the wave before
// succeeded; paused after the first wave, the rollout sends nothing to
// anyone however often they ask; resumed, it finishes; every device runs
// the release, installed exactly once.
func TestFleetRolloutCompletes(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			n := fleetSize()
			f := newFleetOn(t, b.store(t), n)
			f.release("v2", f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true))
			r := f.create("v2", "10%,40%", 95, 5)
			w0, w1, w2 := f.wave(r.ID, 0), f.wave(r.ID, 1), f.wave(r.ID, 2)
			if len(w0) != n/10 || len(w1) != n*4/10 || len(w2) != n/2 {
				t.Fatalf("waves of %d, %d, %d devices, want %d, %d, %d", len(w0), len(w1), len(w2), n/10, n*4/10, n/2)
			}
			counts := func(done0, done1, done2 int) []string {
				return []string{fmt.Sprintf("%d/0/0/%d/0", len(w0)-done0, done0),
					fmt.Sprintf("%d/0/0/%d/0", len(w1)-done1, done1), fmt.Sprintf("%d/0/0/%d/0", len(w2)-done2, done2)}
			}
			// The later waves ask first: nothing for them yet.
			if u, _, _ := f.concurrently(append(w1, w2...)); u != 0 {
				t.Fatalf("waves 1 and 2 before wave 0: %d Updates", u)
			}
			f.want(r.ID, store.RolloutRunning, 0, counts(0, 0, 0)...)
			if u, s, e := f.concurrently(w0); u != len(w0) || s != len(w0) || e != 0 {
				t.Fatalf("wave 0: %d Updates, %d Successes, %d Errors; want %d, %d, 0", u, s, e, len(w0), len(w0))
			}
			f.want(r.ID, store.RolloutRunning, 1, counts(len(w0), 0, 0)...)

			if _, err := f.tam.Rollout.Pause(t.Context(), r.ID, "acceptance: paused after wave 0"); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if u, _, _ := f.concurrently(f.all(r.ID)); u != 0 {
					t.Fatalf("a paused rollout sent %d Updates", u)
				}
			}
			f.want(r.ID, store.RolloutPaused, 1, counts(len(w0), 0, 0)...)

			if _, err := f.tam.Rollout.Resume(t.Context(), r.ID); err != nil {
				t.Fatal(err)
			}
			if u, s, _ := f.concurrently(w1); u != len(w1) || s != len(w1) {
				t.Fatalf("wave 1: %d Updates, %d Successes, want %d", u, s, len(w1))
			}
			f.want(r.ID, store.RolloutRunning, 2, counts(len(w0), len(w1), 0)...)
			if u, s, _ := f.concurrently(w2); u != len(w2) || s != len(w2) {
				t.Fatalf("wave 2: %d Updates, %d Successes, want %d", u, s, len(w2))
			}
			f.want(r.ID, store.RolloutCompleted, 2, counts(len(w0), len(w1), len(w2))...)
			if u, _, _ := f.concurrently(f.all(r.ID)); u != 0 {
				t.Fatalf("a completed rollout sent %d Updates", u)
			}
			runs(t, taX, 2, f.all(r.ID)...)
			for _, d := range f.all(r.ID) {
				if got := d.TCs.Installs(); got != 1 {
					t.Fatalf("device %s installed %d sets, want 1", d.ID, got)
				}
			}
		})
	}
}

// TestFleetRolloutHaltsOnInjectedFailures: 20% of 1,000 devices (every
// fifth of each wave) fail their install. The error threshold of 10% halts the rollout
// in its first wave, at the failure that reaches it; the later waves get
// nothing, nor does the rest of the first wave, however often they ask.
func TestFleetRolloutHaltsOnInjectedFailures(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			n := fleetSize()
			f := newFleetOn(t, b.store(t), n)
			f.release("v2", f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true))
			r := f.create("v2", "10%,40%", 90, 10)
			w0, w1, w2 := f.wave(r.ID, 0), f.wave(r.ID, 1), f.wave(r.ID, 2)
			// Every fifth device of each wave fails its install: 20% of
			// the fleet, and of wave 0 whatever the waves drew (device
			// keys are random; a share drawn before the waves left wave 0
			// short of the threshold once in about 15 runs).
			for _, w := range [][]*tamtest.Device{w0, w1, w2} {
				for i, d := range w {
					d.TCs.FailInstalls(i%5 == 4)
				}
			}
			threshold := (len(w0)*10 + 99) / 100 // failures that reach 10% of wave 0
			// Wave 0 one device after the other: the halt comes at the
			// failure that reaches the threshold, and nothing is sent
			// after it.
			sent, failed, succeeded := 0, 0, 0
			for _, d := range w0 {
				out, err := d.Session(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				sent += out.Updates
				if out.Error {
					failed++
				}
				if out.Success {
					succeeded++
				}
				if failed > threshold {
					t.Fatalf("%d failures sent, the threshold is %d", failed, threshold)
				}
			}
			if failed != threshold || sent != failed+succeeded {
				t.Fatalf("wave 0: %d sent, %d failed, %d succeeded; want the halt at %d failures", sent, failed, succeeded, threshold)
			}
			p := f.progress(r.ID)
			if p.Rollout.State != store.RolloutHalted || p.Rollout.Wave != 0 {
				t.Fatalf("rollout %s at wave %d (%s), want halted at wave 0", p.Rollout.State, p.Rollout.Wave, p.Rollout.Reason)
			}
			f.want(r.ID, store.RolloutHalted, 0, fmt.Sprintf("%d/0/0/%d/%d", len(w0)-sent, succeeded, failed),
				fmt.Sprintf("%d/0/0/0/0", len(w1)), fmt.Sprintf("%d/0/0/0/0", len(w2)))
			for range 2 {
				if u, _, _ := f.concurrently(f.all(r.ID)); u != 0 {
					t.Fatalf("a halted rollout sent %d Updates", u)
				}
			}
			for _, d := range append(w1, w2...) {
				if d.TCs.Sets() != 0 {
					t.Fatalf("device %s of a later wave was given an install set", d.ID)
				}
			}
		})
	}
}
