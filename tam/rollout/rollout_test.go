package rollout_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/tamtest"
)

var taX = tamtest.ID("ta", "x")

// The tests here run one after the other: each has an emulated device
// (tamtest.Evidence) whose TPM simulator is one per process.

// The waves start one after the other, each when the one before reached
// its success threshold; devices of a wave not started get nothing.
func TestWavesAdvanceOnSuccessThreshold(t *testing.T) {
	f := newFleet(t, 6, nil)
	f.release("v2", f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true))
	r := f.create("v2", "1,2", 100, 50) // waves of 1, 2 and the 3 left
	w0, w1, w2 := f.wave(r.ID, 0), f.wave(r.ID, 1), f.wave(r.ID, 2)
	if len(w0) != 1 || len(w1) != 2 || len(w2) != 3 {
		t.Fatalf("waves of %d, %d, %d devices, want 1, 2, 3", len(w0), len(w1), len(w2))
	}
	for _, step := range []struct {
		name    string
		devs    []*tamtest.Device
		updates int
		wave    int
		state   store.RolloutState
		counts  []string
	}{
		{"waves 1 and 2 wait", append(w1, w2...), 0, 0, store.RolloutRunning, []string{"1/0/0/0/0", "2/0/0/0/0", "3/0/0/0/0"}},
		{"wave 0 succeeds: wave 1 starts", w0, 1, 1, store.RolloutRunning, []string{"0/0/0/1/0", "2/0/0/0/0", "3/0/0/0/0"}},
		{"wave 2 still waits", w2, 0, 1, store.RolloutRunning, []string{"0/0/0/1/0", "2/0/0/0/0", "3/0/0/0/0"}},
		{"half of wave 1 is under 100%", w1[:1], 1, 1, store.RolloutRunning, []string{"0/0/0/1/0", "1/0/0/1/0", "3/0/0/0/0"}},
		{"all of wave 1: wave 2 starts", w1[1:], 1, 2, store.RolloutRunning, []string{"0/0/0/1/0", "0/0/0/2/0", "3/0/0/0/0"}},
		{"wave 2 completes the rollout", w2, 3, 2, store.RolloutCompleted, []string{"0/0/0/1/0", "0/0/0/2/0", "0/0/0/3/0"}},
		{"never twice", f.all(r.ID), 0, 2, store.RolloutCompleted, []string{"0/0/0/1/0", "0/0/0/2/0", "0/0/0/3/0"}},
	} {
		if got := f.sessions(step.devs...); got != step.updates {
			t.Fatalf("%s: %d Updates, want %d", step.name, got, step.updates)
		}
		f.want(r.ID, step.state, step.wave, step.counts...)
	}
	runs(t, taX, 2, f.all(r.ID)...)
	for _, d := range f.all(r.ID) {
		if n := d.TCs.Installs(); n != 1 {
			t.Fatalf("device %s installed %d sets, want 1", d.ID, n)
		}
	}
}

// A wave whose failed share reaches the error threshold halts the
// rollout: nothing more is sent, to its wave or the next.
func TestErrorThreshold(t *testing.T) {
	for _, tc := range []struct {
		name             string
		fail             int // devices of wave 0 failing
		failFirst        bool
		success, errs    int
		state            store.RolloutState
		wave             int
		wave1Updates     int
		counts0, counts1 string
	}{
		{"one of five reaches 20%, answering first", 1, true, 80, 20, store.RolloutHalted, 0, 0, "4/0/0/0/1", "5/0/0/0/0"},
		{"one of five reaches 20% after wave 1 started", 1, false, 80, 20, store.RolloutHalted, 1, 0, "0/0/0/4/1", "5/0/0/0/0"},
		{"one of five under 30%, four reach 80%", 1, false, 80, 30, store.RolloutRunning, 1, 5, "0/0/0/4/1", "0/0/0/5/0"},
		{"two of five: 60% success short of 80%", 2, false, 80, 50, store.RolloutRunning, 0, 0, "0/0/0/3/2", "5/0/0/0/0"},
		{"two of five reach 40%, answering first", 2, true, 50, 40, store.RolloutHalted, 0, 0, "3/0/0/0/2", "5/0/0/0/0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFleet(t, 10, nil)
			f.release("v2", f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true))
			r := f.create("v2", "5", tc.success, tc.errs)
			w0, w1 := f.wave(r.ID, 0), f.wave(r.ID, 1)
			// The failing devices answer first or last: a wave that
			// reached its success threshold started the next before the
			// failures came.
			failing := w0[len(w0)-tc.fail:]
			if tc.failFirst {
				failing = w0[:tc.fail]
			}
			for _, d := range failing {
				d.TCs.SetFail(true)
			}
			// Once halted, the rest of wave 0 gets nothing either.
			want0 := len(w0)
			if tc.failFirst {
				want0 = tc.fail
			}
			if got := f.sessions(w0...); got != want0 {
				t.Fatalf("wave 0: %d Updates, want %d", got, want0)
			}
			if got := f.sessions(w1...); got != tc.wave1Updates {
				t.Fatalf("wave 1: %d Updates, want %d", got, tc.wave1Updates)
			}
			want := tc.state
			if tc.wave1Updates > 0 {
				want = store.RolloutCompleted
			}
			f.want(r.ID, want, tc.wave, tc.counts0, tc.counts1)
			if tc.state == store.RolloutHalted {
				p := f.progress(r.ID)
				if !strings.Contains(p.Rollout.Reason, "error threshold") {
					t.Fatalf("halted with reason %q", p.Rollout.Reason)
				}
				// A failed device fixed, a halted rollout still sends
				// nothing: not to it, not to the rest.
				for _, d := range w0 {
					d.TCs.SetFail(false)
				}
				if got := f.sessions(f.all(r.ID)...); got != 0 {
					t.Fatalf("a halted rollout sent %d Updates", got)
				}
				if _, err := f.tam.Rollout.Resume(t.Context(), r.ID); !errors.Is(err, store.ErrConflict) {
					t.Fatalf("resume a halted rollout: %v, want ErrConflict", err)
				}
				if _, err := f.tam.Rollout.Cancel(t.Context(), r.ID, "investigating"); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// A paused rollout sends nothing; resumed, it finishes.
func TestPauseResume(t *testing.T) {
	f := newFleet(t, 4, nil)
	f.release("v2", f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true))
	r := f.create("v2", "2", 100, 50)
	w0, w1 := f.wave(r.ID, 0), f.wave(r.ID, 1)
	if got := f.sessions(w0[0]); got != 1 {
		t.Fatalf("%d Updates before the pause, want 1", got)
	}
	if _, err := f.tam.Rollout.Pause(t.Context(), r.ID, "looking at the first device"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got := f.sessions(f.all(r.ID)...); got != 0 {
			t.Fatalf("a paused rollout sent %d Updates", got)
		}
	}
	f.want(r.ID, store.RolloutPaused, 0, "1/0/0/1/0", "2/0/0/0/0")
	if _, err := f.tam.Rollout.Pause(t.Context(), r.ID, "again"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("pause a paused rollout: %v, want ErrConflict", err)
	}
	if _, err := f.tam.Rollout.Resume(t.Context(), r.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.sessions(append(w0[1:], w1...)...); got != 3 {
		t.Fatalf("resumed: %d Updates, want 3", got)
	}
	f.want(r.ID, store.RolloutCompleted, 1, "0/0/0/2/0", "0/0/0/2/0")
	runs(t, taX, 2, f.all(r.ID)...)
}

// A device whose attestation is not affirming receives no release, and
// what its tc-list claims changes nothing.
func TestUntrustworthyReceivesNothing(t *testing.T) {
	f := newFleet(t, 3, func(i int) tamtest.DeviceOptions { return tamtest.DeviceOptions{Untrustworthy: i == 0} })
	f.release("v2", f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true))
	r := f.create("v2", "100%", 100, 100)
	var bad *tamtest.Device
	for range 2 {
		f.sessions(f.all(r.ID)...)
	}
	for _, d := range f.all(r.ID) {
		dev, err := f.tam.Store.Device(t.Context(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if dev.Attestation.Status != rollout.Affirming {
			bad = d
		}
	}
	if bad == nil {
		t.Fatal("no device appraised untrustworthy")
	}
	if n := bad.TCs.Sets(); n != 0 {
		t.Fatalf("the untrustworthy device was given %d install sets", n)
	}
	runs(t, taX, 0, bad)
	del, err := f.tam.Store.Delivery(t.Context(), r.ID, bad.ID)
	if err != nil || del.State != store.DeliveryPending {
		t.Fatalf("its delivery: %+v, %v; want pending", del, err)
	}
	f.want(r.ID, store.RolloutRunning, 0, "1/0/0/2/0")
}

// Two TAM replicas on one store, a device's sessions alternating between
// them: each device installs the release once.
func TestReplicasNeverSendTwice(t *testing.T) {
	f := newFleet(t, 4, nil)
	b := tamtest.NewTAM(t, tamtest.Options{Store: f.tam.Store, Clock: f.tam.Clock, Key: f.tam.Key, Seed: 2})
	f.release("v2", f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true))
	r := f.create("v2", "1", 50, 50)
	for round := range 4 {
		for i, d := range f.all(r.ID) {
			tm := f.tam
			if (i+round)%2 == 1 {
				tm = b
			}
			if _, err := d.SessionAt(context.Background(), tm); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range f.all(r.ID) {
		if n := d.TCs.Installs(); n != 1 {
			t.Fatalf("device %s installed %d sets, want 1", d.ID, n)
		}
	}
	f.want(r.ID, store.RolloutCompleted, 1, "0/0/0/1/0", "0/0/0/3/0")
}

// Two sessions of one device (a retry, or two replicas) decide at once:
// the release goes in one Update only.
func TestClaimRace(t *testing.T) {
	f := newFleet(t, 1, nil)
	env := f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true)
	f.release("v2", env)
	r := f.create("v2", "1", 100, 100)
	dev := rollout.Device{ID: f.all(r.ID)[0].ID, Attestation: rollout.Affirming, Have: map[string]uint64{}}
	const n = 8
	sent := make([]int, n)
	tokens := make([][]byte, n)
	for i := range n {
		// Each racer is a session the TAM opened: its QueryRequest went
		// out, its QueryResponse is being decided.
		tokens[i] = []byte{byte(i), 1, 2, 3, 4, 5, 6, 7}
		now := f.tam.Clock.Now()
		err := f.tam.Store.CreateSession(t.Context(), store.Session{Token: tokens[i], State: store.QuerySent,
			Challenge: []byte("challenge"), Created: now, Expires: now.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			offer, err := f.tam.Rollout.Offer(context.Background(), dev)
			if err != nil {
				t.Error(err)
				return
			}
			send, err := f.tam.Rollout.Claim(context.Background(), offer, tokens[i], offer.Envelopes)
			if err != nil {
				t.Error(err)
				return
			}
			sent[i] = len(send)
		})
	}
	wg.Wait()
	total := 0
	for _, s := range sent {
		total += s
	}
	if total != 1 {
		t.Fatalf("%d racing sessions sent the release %d times, want once (%v)", n, total, sent)
	}
}

// A firmware pair succeeds when the device's next tc-list shows it
// booted; a device whose trial boot rolled back fails.
func TestFirmwareConfirmedAfterReboot(t *testing.T) {
	fw := tamtest.ID(tamtest.FirmwarePrefix, "secure")
	f := newFleet(t, 2, func(i int) tamtest.DeviceOptions { return tamtest.DeviceOptions{RollBack: i == 1} })
	f.release("fw2", f.author.Publish(t, f.tam, store.FirmwareEnvelope, fw, 2, true))
	r := f.create("fw2", "100%", 50, 100)
	for _, d := range f.all(r.ID) {
		out, err := d.Session(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !out.Success || !out.Rebooted {
			t.Fatalf("firmware session: %+v, want Success and a reboot", out)
		}
	}
	f.want(r.ID, store.RolloutRunning, 0, "0/0/2/0/0")
	f.sessions(f.all(r.ID)...)
	f.want(r.ID, store.RolloutCompleted, 0, "0/0/0/1/1")
	for _, d := range f.all(r.ID) {
		del, _ := f.tam.Store.Delivery(t.Context(), r.ID, d.ID)
		if _, ok := d.TCs.Runs(fw); ok != (del.State == store.DeliverySucceeded) {
			t.Fatalf("device %s runs firmware %v, its delivery is %s (%s)", d.ID, ok, del.State, del.Detail)
		}
	}
}
