package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// The fleet's rules (issue 15): tags, groups, releases, and rollouts whose
// every state change is a compare-and-set that two replicas on one
// database cannot both win.

// addDevices registers devices by ID.
func addDevices(ctx context.Context, t *testing.T, s store.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		wantErr(t, "add device "+id, s.AddDevice(ctx, device(id)), nil)
	}
}

func testHeld(t *testing.T, open Opener) {
	ctx, s := fresh(t, open)
	direct := envelope("direct", 1, "", at(1), cid("ta", "x"))
	held := envelope("held", 2, "", at(2), cid("ta", "x"))
	held.Held = true
	heldOnly := envelope("held only", 1, "", at(3), cid("ta", "y"))
	heldOnly.Held = true
	for _, e := range []store.Envelope{direct, held, heldOnly} {
		wantErr(t, "put", s.PutEnvelope(ctx, e), nil)
		got, err := s.Envelope(ctx, e.Digest)
		wantErr(t, "envelope", err, nil)
		same(t, "envelope", got, e)
	}
	latest, err := s.LatestFor(ctx, "dev-1")
	wantErr(t, "latest", err, nil)
	// The held envelope of a higher sequence number neither is offered
	// nor hides the direct one; a component only held is not offered.
	same(t, "latest for", latest, []store.Envelope{direct})
}

func testTags(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := fresh(t, open)
		addDevices(ctx, t, s, "01", "02", "03")
		wantErr(t, "tags 01", s.SetTags(ctx, "01", []string{"lab", "eu", "canary"}), nil)
		wantErr(t, "tags 02", s.SetTags(ctx, "02", []string{"eu"}), nil)
		for _, tc := range []struct {
			dev  string
			want []string
		}{{"01", []string{"canary", "eu", "lab"}}, {"02", []string{"eu"}}, {"03", nil}} {
			got, err := s.Tags(ctx, tc.dev)
			wantErr(t, "tags", err, nil)
			same(t, "tags of "+tc.dev, got, tc.want)
		}
		got, err := s.TaggedDevices(ctx, "eu")
		wantErr(t, "tagged", err, nil)
		same(t, "tagged eu", got, []string{"01", "02"})
		got, err = s.TaggedDevices(ctx, "none")
		wantErr(t, "tagged", err, nil)
		same(t, "tagged none", got, []string(nil))
		// Replacing, then removing.
		wantErr(t, "replace", s.SetTags(ctx, "01", []string{"prod"}), nil)
		got, _ = s.Tags(ctx, "01")
		same(t, "replaced", got, []string{"prod"})
		wantErr(t, "clear", s.SetTags(ctx, "01", nil), nil)
		got, _ = s.Tags(ctx, "01")
		same(t, "cleared", got, []string(nil))
	})
	t.Run("Errors", func(t *testing.T) {
		ctx, s := fresh(t, open)
		addDevices(ctx, t, s, "01")
		wantErr(t, "set", s.SetTags(ctx, "01", []string{"keep"}), nil)
		for _, tc := range []struct {
			name string
			dev  string
			tags []string
			want error
		}{
			{"unregistered", "nobody", []string{"x"}, store.ErrNotFound},
			{"twice", "01", []string{"a", "a"}, store.ErrInvalid},
			{"empty tag", "01", []string{""}, store.ErrInvalid},
			{"too long", "01", []string{string(make([]byte, store.MaxKey+1))}, store.ErrInvalid},
			{"NUL", "01", []string{"a\x00"}, store.ErrInvalid},
		} {
			wantErr(t, tc.name, s.SetTags(ctx, tc.dev, tc.tags), tc.want)
		}
		got, _ := s.Tags(ctx, "01")
		same(t, "after refusals", got, []string{"keep"})
		_, err := s.Tags(ctx, "nobody")
		wantErr(t, "tags of unregistered", err, store.ErrNotFound)
	})
}

func testGroups(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := fresh(t, open)
		addDevices(ctx, t, s, "01", "02")
		named := store.Group{Name: "canaries", Members: []string{"02", "01"}, Created: at(1)}
		bySel := store.Group{Name: "all-eu", Selector: store.Selector{Model: "0a0b", Version: "3", Tag: "eu"}, Created: at(2)}
		byTag := store.Group{Name: "b-lab", Selector: store.Selector{Tag: "lab"}}
		for _, g := range []store.Group{named, bySel, byTag} {
			wantErr(t, "add "+g.Name, s.AddGroup(ctx, g), nil)
			got, err := s.Group(ctx, g.Name)
			wantErr(t, "group", err, nil)
			same(t, "group "+g.Name, got, g)
		}
		all, err := s.ListGroups(ctx)
		wantErr(t, "list", err, nil)
		same(t, "list", all, []store.Group{bySel, byTag, named})
	})
	t.Run("Errors", func(t *testing.T) {
		ctx, s := fresh(t, open)
		addDevices(ctx, t, s, "01")
		wantErr(t, "add", s.AddGroup(ctx, store.Group{Name: "g", Members: []string{"01"}}), nil)
		for _, tc := range []struct {
			name string
			g    store.Group
			want error
		}{
			{"taken", store.Group{Name: "g", Selector: store.Selector{Tag: "x"}}, store.ErrExists},
			{"unregistered member", store.Group{Name: "h", Members: []string{"01", "nobody"}}, store.ErrNotFound},
			{"both", store.Group{Name: "h", Members: []string{"01"}, Selector: store.Selector{Tag: "x"}}, store.ErrInvalid},
			{"neither", store.Group{Name: "h"}, store.ErrInvalid},
			{"no members", store.Group{Name: "h", Members: []string{}}, store.ErrInvalid},
			{"member twice", store.Group{Name: "h", Members: []string{"01", "01"}}, store.ErrInvalid},
			{"no name", store.Group{Members: []string{"01"}}, store.ErrInvalid},
		} {
			wantErr(t, tc.name, s.AddGroup(ctx, tc.g), tc.want)
		}
		_, err := s.Group(ctx, "h")
		wantErr(t, "refused group", err, store.ErrNotFound)
		all, _ := s.ListGroups(ctx)
		same(t, "after refusals", all, []store.Group{{Name: "g", Members: []string{"01"}}})
	})
}

func testReleases(t *testing.T, open Opener) {
	ctx, s := fresh(t, open)
	e1, e2 := envelope("e1", 1, "", at(1), cid("ta", "x")), envelope("e2", 1, "", at(1), cid("fw"))
	for _, e := range []store.Envelope{e1, e2} {
		wantErr(t, "put", s.PutEnvelope(ctx, e), nil)
	}
	r1 := store.Release{Name: "v2", Envelopes: [][]byte{e2.Digest, e1.Digest}, Created: at(3)}
	r0 := store.Release{Name: "v1", Envelopes: [][]byte{e1.Digest}}
	for _, r := range []store.Release{r1, r0} {
		wantErr(t, "add "+r.Name, s.AddRelease(ctx, r), nil)
		got, err := s.Release(ctx, r.Name)
		wantErr(t, "release", err, nil)
		same(t, "release "+r.Name, got, r)
	}
	for _, tc := range []struct {
		name string
		r    store.Release
		want error
	}{
		{"taken", store.Release{Name: "v1", Envelopes: [][]byte{e2.Digest}}, store.ErrExists},
		{"unknown envelope", store.Release{Name: "v3", Envelopes: [][]byte{e1.Digest, sum([]byte("absent"))}}, store.ErrNotFound},
		{"no envelopes", store.Release{Name: "v3"}, store.ErrInvalid},
		{"envelope twice", store.Release{Name: "v3", Envelopes: [][]byte{e1.Digest, e1.Digest}}, store.ErrInvalid},
		{"short digest", store.Release{Name: "v3", Envelopes: [][]byte{e1.Digest[:31]}}, store.ErrInvalid},
	} {
		wantErr(t, tc.name, s.AddRelease(ctx, tc.r), tc.want)
	}
	_, err := s.Release(ctx, "v3")
	wantErr(t, "refused release", err, store.ErrNotFound)
	all, err := s.ListReleases(ctx)
	wantErr(t, "list", err, nil)
	same(t, "list", all, []store.Release{r0, r1})
}

// rolloutFixture is a store with devices d0..d(n-1), release "rel" and a
// running rollout "ro" over them in waves.
func rolloutFixture(t *testing.T, open Opener, waves ...int) (context.Context, store.Store, store.Rollout, []string) {
	t.Helper()
	ctx, s := fresh(t, open)
	r, devs := rolloutOn(ctx, t, s, waves...)
	return ctx, s, r, devs
}

// rolloutOn stores rolloutFixture's records in s.
func rolloutOn(ctx context.Context, t *testing.T, s store.Store, waves ...int) (store.Rollout, []string) {
	t.Helper()
	e := envelope("release envelope", 1, "", at(1), cid("ta", "x"))
	e.Held = true
	wantErr(t, "put", s.PutEnvelope(ctx, e), nil)
	wantErr(t, "release", s.AddRelease(ctx, store.Release{Name: "rel", Envelopes: [][]byte{e.Digest}}), nil)
	var devs []string
	total := 0
	for _, n := range waves {
		total += n
	}
	for i := range total {
		devs = append(devs, fmt.Sprintf("d%03d", i))
	}
	addDevices(ctx, t, s, devs...)
	r := store.Rollout{ID: "ro", Group: "g", Release: "rel", Waves: waves, SuccessThreshold: 80, ErrorThreshold: 20,
		State: store.RolloutRunning, Created: at(2), Updated: at(2)}
	wantErr(t, "create", s.CreateRollout(ctx, r, devs), nil)
	return r, devs
}

func testRollouts(t *testing.T, open Opener) {
	t.Run("Create", func(t *testing.T) {
		ctx, s, r, devs := rolloutFixture(t, open, 1, 2, 3)
		got, err := s.Rollout(ctx, "ro")
		wantErr(t, "rollout", err, nil)
		same(t, "rollout", got, r)
		all, err := s.ListRollouts(ctx)
		wantErr(t, "list", err, nil)
		same(t, "list", all, []store.Rollout{r})
		dels, err := s.Deliveries(ctx, "ro")
		wantErr(t, "deliveries", err, nil)
		var want []store.Delivery
		for i, d := range devs {
			wave := map[int]int{0: 0, 1: 1, 2: 1, 3: 2, 4: 2, 5: 2}[i]
			want = append(want, store.Delivery{Rollout: "ro", Device: d, Wave: wave, State: store.DeliveryPending, Updated: at(2)})
		}
		same(t, "deliveries", dels, want)
		one, err := s.Delivery(ctx, "ro", "d004")
		wantErr(t, "delivery", err, nil)
		same(t, "delivery", one, want[4])
		of, err := s.DeliveriesOf(ctx, "d004")
		wantErr(t, "deliveries of", err, nil)
		same(t, "deliveries of", of, []store.Delivery{want[4]})
		prog, err := s.Progress(ctx, "ro")
		wantErr(t, "progress", err, nil)
		same(t, "progress", prog, []store.WaveProgress{{Wave: 0, Devices: 1, Pending: 1}, {Wave: 1, Devices: 2, Pending: 2}, {Wave: 2, Devices: 3, Pending: 3}})
	})
	t.Run("CreateErrors", func(t *testing.T) {
		ctx, s, r, devs := rolloutFixture(t, open, 2)
		other := r
		other.ID = "ro2"
		noRelease := other
		noRelease.Release = "absent"
		paused := other
		paused.State = store.RolloutPaused
		atWave1 := other
		atWave1.Waves, atWave1.Wave = []int{1, 1}, 1
		zeroWave := other
		zeroWave.Waves = []int{2, 0}
		noThreshold := other
		noThreshold.SuccessThreshold = 0
		overThreshold := other
		overThreshold.ErrorThreshold = 101
		for _, tc := range []struct {
			name string
			r    store.Rollout
			devs []string
			want error
		}{
			{"taken", r, devs, store.ErrExists},
			{"unknown release", noRelease, devs, store.ErrNotFound},
			{"unregistered device", other, []string{"d000", "nobody"}, store.ErrNotFound},
			{"device twice", other, []string{"d000", "d000"}, store.ErrInvalid},
			{"fewer devices than waves hold", other, devs[:1], store.ErrInvalid},
			{"more devices than waves hold", other, append(devs, "d002"), store.ErrInvalid},
			{"created paused", paused, devs, store.ErrInvalid},
			{"created past wave 0", atWave1, devs, store.ErrInvalid},
			{"empty wave", zeroWave, devs, store.ErrInvalid},
			{"no waves", store.Rollout{ID: "ro2", Group: "g", Release: "rel", SuccessThreshold: 1, ErrorThreshold: 1, State: store.RolloutRunning}, nil, store.ErrInvalid},
			{"success threshold 0", noThreshold, devs, store.ErrInvalid},
			{"error threshold 101", overThreshold, devs, store.ErrInvalid},
		} {
			wantErr(t, tc.name, s.CreateRollout(ctx, tc.r, tc.devs), tc.want)
		}
		_, err := s.Rollout(ctx, "ro2")
		wantErr(t, "refused rollout", err, store.ErrNotFound)
		of, err := s.DeliveriesOf(ctx, "d000")
		wantErr(t, "deliveries of", err, nil)
		if len(of) != 1 {
			t.Fatalf("d000 has %d deliveries after refused creates, want 1: %+v", len(of), of)
		}
		for _, f := range []func() error{
			func() error { _, err := s.Rollout(ctx, "absent"); return err },
			func() error { _, err := s.Deliveries(ctx, "absent"); return err },
			func() error { _, err := s.Progress(ctx, "absent"); return err },
			func() error { _, err := s.Delivery(ctx, "ro", "nobody"); return err },
			func() error {
				return s.SetRolloutState(ctx, "absent", store.RolloutRunning, store.RolloutPaused, "", at(3))
			},
		} {
			wantErr(t, "absent", f(), store.ErrNotFound)
		}
	})
	t.Run("State", func(t *testing.T) {
		ctx, s, r, _ := rolloutFixture(t, open, 1)
		stored := r
		for _, step := range []struct {
			name     string
			from, to store.RolloutState
			want     error
		}{
			{"resume a running one", store.RolloutPaused, store.RolloutRunning, store.ErrConflict},
			{"unknown state", store.RolloutRunning, "sleeping", store.ErrInvalid},
			{"running to running", store.RolloutRunning, store.RolloutRunning, store.ErrInvalid},
			{"pause", store.RolloutRunning, store.RolloutPaused, nil},
			{"pause again", store.RolloutRunning, store.RolloutPaused, store.ErrConflict},
			{"paused completes", store.RolloutPaused, store.RolloutCompleted, store.ErrInvalid},
			{"resume", store.RolloutPaused, store.RolloutRunning, nil},
			{"halt", store.RolloutRunning, store.RolloutHalted, nil},
			{"halted resumes", store.RolloutHalted, store.RolloutRunning, store.ErrInvalid},
			{"cancel", store.RolloutHalted, store.RolloutCanceled, nil},
			{"canceled moves", store.RolloutCanceled, store.RolloutRunning, store.ErrInvalid},
		} {
			now := at(time.Duration(len(step.name)) * time.Second)
			err := s.SetRolloutState(ctx, "ro", step.from, step.to, "because "+step.name, now)
			wantErr(t, step.name, err, step.want)
			if err == nil {
				stored.State, stored.Reason, stored.Updated = step.to, "because "+step.name, now
			}
			got, err := s.Rollout(ctx, "ro")
			wantErr(t, "rollout", err, nil)
			same(t, "after "+step.name, got, stored)
		}
	})
	t.Run("StateConcurrent", func(t *testing.T) {
		// Two operators, or two replicas, pausing and canceling at once:
		// exactly one move from running wins.
		ctx, s, _, _ := rolloutFixture(t, open, 1)
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			to := []store.RolloutState{store.RolloutPaused, store.RolloutCanceled, store.RolloutHalted, store.RolloutCompleted}[i%4]
			wg.Go(func() {
				errs[i] = s.SetRolloutState(ctx, "ro", store.RolloutRunning, to, fmt.Sprint("racer ", i), at(time.Second))
			})
		}
		wg.Wait()
		winner := oneWinner(t, errs)
		got, _ := s.Rollout(ctx, "ro")
		if got.Reason != fmt.Sprint("racer ", winner) {
			t.Fatalf("rollout holds %q, the winner was racer %d", got.Reason, winner)
		}
	})
	t.Run("AdvanceWave", func(t *testing.T) {
		ctx, s, r, _ := rolloutFixture(t, open, 1, 1, 1)
		stored := r
		for _, step := range []struct {
			name  string
			from  int
			pause bool
			want  error
		}{
			{"from a wave not started", 1, false, store.ErrConflict},
			{"negative", -1, false, store.ErrInvalid},
			{"wave 1", 0, false, nil},
			{"wave 1 again", 0, false, store.ErrConflict},
			{"paused", 1, true, store.ErrConflict},
			{"wave 2", 1, false, nil},
			{"past the last wave", 2, false, store.ErrConflict},
		} {
			if step.pause {
				wantErr(t, "pause", s.SetRolloutState(ctx, "ro", store.RolloutRunning, store.RolloutPaused, "", at(5)), nil)
			}
			now := at(time.Duration(10+len(step.name)) * time.Second)
			err := s.AdvanceWave(ctx, "ro", step.from, now)
			wantErr(t, step.name, err, step.want)
			if step.pause {
				wantErr(t, "resume", s.SetRolloutState(ctx, "ro", store.RolloutPaused, store.RolloutRunning, "", at(6)), nil)
				stored.Updated = at(6)
			}
			if err == nil {
				stored.Wave, stored.Updated = step.from+1, now
			}
			got, err := s.Rollout(ctx, "ro")
			wantErr(t, "rollout", err, nil)
			same(t, "after "+step.name, got, stored)
		}
		wantErr(t, "absent", s.AdvanceWave(ctx, "absent", 0, at(1)), store.ErrNotFound)
	})
	t.Run("AdvanceWaveConcurrent", func(t *testing.T) {
		// Replicas that each saw wave 0 reach its success threshold: the
		// wave advances once, not once per replica.
		ctx, s, _, _ := rolloutFixture(t, open, 1, 1, 1)
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = s.AdvanceWave(ctx, "ro", 0, at(time.Second)) })
		}
		wg.Wait()
		oneWinner(t, errs)
		got, _ := s.Rollout(ctx, "ro")
		if got.Wave != 1 {
			t.Fatalf("after %d racing advances from wave 0 the rollout is at wave %d, want 1", n, got.Wave)
		}
	})
	t.Run("Delivery", testDeliveryMoves(open))
	t.Run("DeliveryConcurrent", func(t *testing.T) {
		// Two sessions of one device (or two replicas) claiming the same
		// pending delivery: one sends, the other sends nothing.
		ctx, s, _, _ := rolloutFixture(t, open, 1)
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				next := store.Delivery{Rollout: "ro", Device: "d000", State: store.DeliverySent, Token: fmt.Appendf(nil, "token-%d", i), Sends: 1, Updated: at(time.Second)}
				errs[i] = s.MoveDelivery(ctx, next, store.DeliveryPending, nil)
			})
		}
		wg.Wait()
		winner := oneWinner(t, errs)
		got, _ := s.Delivery(ctx, "ro", "d000")
		if string(got.Token) != fmt.Sprintf("token-%d", winner) {
			t.Fatalf("delivery holds token %q, the winner was %d", got.Token, winner)
		}
		// Sending again after that session died: one re-send wins too.
		for i := range n {
			wg.Go(func() {
				next := got
				next.Token, next.Sends = fmt.Appendf(nil, "again-%d", i), 2
				errs[i] = s.MoveDelivery(ctx, next, store.DeliverySent, got.Token)
			})
		}
		wg.Wait()
		winner = oneWinner(t, errs)
		again, _ := s.Delivery(ctx, "ro", "d000")
		if string(again.Token) != fmt.Sprintf("again-%d", winner) || again.Sends != 2 {
			t.Fatalf("delivery after re-sends: %+v, the winner was %d", again, winner)
		}
	})
	t.Run("Progress", func(t *testing.T) {
		ctx, s, _, devs := rolloutFixture(t, open, 2, 3)
		move := func(dev string, wave int, to ...store.DeliveryState) {
			from, token := store.DeliveryPending, []byte(nil)
			for _, st := range to {
				next := store.Delivery{Rollout: "ro", Device: dev, Wave: wave, State: st, Updated: at(3)}
				if st != store.DeliveryPending {
					next.Token = []byte("tok-" + dev)
				}
				wantErr(t, fmt.Sprintf("%s to %s", dev, st), s.MoveDelivery(ctx, next, from, token), nil)
				from, token = st, next.Token
			}
		}
		move(devs[0], 0, store.DeliverySent, store.DeliverySucceeded)
		move(devs[1], 0, store.DeliverySent, store.DeliveryFailed)
		move(devs[2], 1, store.DeliverySent)
		move(devs[3], 1, store.DeliverySent, store.DeliveryInstalled)
		prog, err := s.Progress(ctx, "ro")
		wantErr(t, "progress", err, nil)
		same(t, "progress", prog, []store.WaveProgress{
			{Wave: 0, Devices: 2, Succeeded: 1, Failed: 1},
			{Wave: 1, Devices: 3, Pending: 1, Sent: 1, Installed: 1},
		})
	})
}

// testDeliveryMoves drives one delivery through its states, with the moves
// and stale compare-and-sets that must fail on the way.
func testDeliveryMoves(open Opener) func(*testing.T) {
	return func(t *testing.T) {
		ctx, s, _, _ := rolloutFixture(t, open, 1, 1)
		d := func(st store.DeliveryState, token string, sends int, detail string) store.Delivery {
			out := store.Delivery{Rollout: "ro", Device: "d000", State: st, Sends: sends, Detail: detail, Updated: at(time.Duration(sends) * time.Minute)}
			if token != "" {
				out.Token = []byte(token)
			}
			return out
		}
		stored := d(store.DeliveryPending, "", 0, "")
		stored.Updated = at(2)
		wrongWave := d(store.DeliverySent, "t1", 1, "")
		wrongWave.Wave = 1
		for _, step := range []struct {
			name  string
			next  store.Delivery
			from  store.DeliveryState
			token string
			want  error
		}{
			{"pending straight to failed", d(store.DeliveryFailed, "", 0, "x"), store.DeliveryPending, "", store.ErrInvalid},
			{"from the wrong state", d(store.DeliverySucceeded, "t1", 1, ""), store.DeliverySent, "", store.ErrConflict},
			{"wrong wave", wrongWave, store.DeliveryPending, "", store.ErrInvalid},
			{"stale token", d(store.DeliverySent, "t1", 1, ""), store.DeliveryPending, "t0", store.ErrConflict},
			{"send", d(store.DeliverySent, "t1", 1, ""), store.DeliveryPending, "", nil},
			{"send again from pending", d(store.DeliverySent, "t2", 1, ""), store.DeliveryPending, "", store.ErrConflict},
			{"re-send under another token", d(store.DeliverySent, "t2", 2, ""), store.DeliverySent, "t1", nil},
			{"outcome of the old session", d(store.DeliveryFailed, "t1", 2, "old"), store.DeliverySent, "t1", store.ErrConflict},
			{"installed", d(store.DeliveryInstalled, "t2", 2, "awaiting reboot"), store.DeliverySent, "t2", nil},
			{"installed goes back", d(store.DeliverySent, "t3", 3, ""), store.DeliveryInstalled, "t2", store.ErrInvalid},
			{"confirmed", d(store.DeliverySucceeded, "t2", 2, "booted"), store.DeliveryInstalled, "t2", nil},
			{"succeeded is final", d(store.DeliveryFailed, "t2", 2, ""), store.DeliverySucceeded, "t2", store.ErrInvalid},
		} {
			var token []byte
			if step.token != "" {
				token = []byte(step.token)
			}
			err := s.MoveDelivery(ctx, step.next, step.from, token)
			wantErr(t, step.name, err, step.want)
			if err == nil {
				stored = step.next
			}
			got, err := s.Delivery(ctx, "ro", "d000")
			wantErr(t, "delivery", err, nil)
			same(t, "after "+step.name, got, stored)
		}
		// A pending delivery whose device already runs the release.
		already := store.Delivery{Rollout: "ro", Device: "d001", Wave: 1, State: store.DeliverySucceeded, Detail: "already installed", Updated: at(9)}
		wantErr(t, "already", s.MoveDelivery(ctx, already, store.DeliveryPending, nil), nil)
		got, _ := s.Delivery(ctx, "ro", "d001")
		same(t, "already", got, already)
		absent := already
		absent.Device = "nobody"
		wantErr(t, "absent", s.MoveDelivery(ctx, absent, store.DeliveryPending, nil), store.ErrNotFound)
	}
}

// oneWinner fails unless exactly one of errs is nil and the rest are
// ErrConflict; it returns the winner's index.
func oneWinner(t *testing.T, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("racers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("racer %d: %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("none of %d racers won", len(errs))
	}
	return winner
}
