package rollout_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/tamtest"
)

// An envelope held for a release reaches no device without a rollout,
// while one published for direct delivery reaches every device; a
// canceled rollout sends nothing.
func TestHeldOnlyThroughRollout(t *testing.T) {
	f := newFleet(t, 2, nil)
	taY := tamtest.ID("ta", "y")
	held := f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true)
	f.author.Publish(t, f.tam, store.TAEnvelope, taY, 1, false)
	f.release("v2", held)
	var devs []*tamtest.Device
	for _, d := range f.devs {
		devs = append(devs, d)
	}
	if got := f.sessions(devs...); got != 2 {
		t.Fatalf("%d Updates for the direct envelope, want 2", got)
	}
	if got := f.sessions(devs...); got != 0 {
		t.Fatalf("%d Updates without a rollout, want 0", got)
	}
	runs(t, taY, 1, devs...)
	runs(t, taX, 0, devs...)
	r := f.create("v2", "100%", 100, 100)
	if _, err := f.tam.Rollout.Cancel(t.Context(), r.ID, "not yet"); err != nil {
		t.Fatal(err)
	}
	if got := f.sessions(devs...); got != 0 {
		t.Fatalf("%d Updates from a canceled rollout", got)
	}
	for _, act := range []func() (store.Rollout, error){
		func() (store.Rollout, error) { return f.tam.Rollout.Resume(t.Context(), r.ID) },
		func() (store.Rollout, error) { return f.tam.Rollout.Pause(t.Context(), r.ID, "") },
		func() (store.Rollout, error) { return f.tam.Rollout.Cancel(t.Context(), r.ID, "again") },
	} {
		if _, err := act(); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("acting on a canceled rollout: %v, want ErrConflict", err)
		}
	}
	f.want(r.ID, store.RolloutCanceled, 0, "2/0/0/0/0")
	r2 := f.create("v2", "100%", 100, 100)
	if got := f.sessions(devs...); got != 2 {
		t.Fatalf("%d Updates from the new rollout, want 2", got)
	}
	f.want(r2.ID, store.RolloutCompleted, 0, "0/0/0/2/0")
	runs(t, taX, 2, devs...)
}

// A release of a TA and a firmware pair goes in two Updates (TAs first),
// and succeeds when the firmware is seen booted.
func TestReleaseInTwoUpdates(t *testing.T) {
	f := newFleet(t, 1, nil)
	fw := tamtest.ID(tamtest.FirmwarePrefix, "normal")
	f.release("v2", f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true),
		f.author.Publish(t, f.tam, store.FirmwareEnvelope, fw, 2, true))
	r := f.create("v2", "100%", 100, 100)
	d := f.all(r.ID)[0]
	for _, step := range []struct {
		name     string
		updates  int
		rebooted bool
		state    store.DeliveryState
		sends    int
	}{
		{"the TA", 1, false, store.DeliverySent, 1},
		{"the firmware", 1, true, store.DeliveryInstalled, 2},
		{"booted", 0, false, store.DeliverySucceeded, 2},
	} {
		out, err := d.Session(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if out.Updates != step.updates || out.Rebooted != step.rebooted {
			t.Fatalf("%s: session %+v", step.name, out)
		}
		del, err := f.tam.Store.Delivery(t.Context(), r.ID, d.ID)
		if err != nil || del.State != step.state || del.Sends != step.sends {
			t.Fatalf("%s: delivery %+v, %v; want %s after %d sends", step.name, del, err, step.state, step.sends)
		}
	}
	f.want(r.ID, store.RolloutCompleted, 0, "0/0/0/1/0")
	runs(t, taX, 2, d)
	runs(t, fw, 2, d)
}

// An Update whose session ends without an answer (the device or a
// replica stopped) is sent again once the session is over, never while
// it may still be answered, and at most MaxSends times.
func TestLostAnswerSentAgain(t *testing.T) {
	f := newFleet(t, 1, nil)
	f.release("v2", f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true))
	r := f.create("v2", "1", 100, 100)
	dev := rollout.Device{ID: f.all(r.ID)[0].ID, Attestation: rollout.Affirming, Have: map[string]uint64{}}
	ctx := t.Context()
	sendOnce := func(i int) int {
		t.Helper()
		token := fmt.Appendf(nil, "token-%02d", i)
		now := f.tam.Clock.Now()
		if err := f.tam.Store.CreateSession(ctx, store.Session{Token: token, State: store.QuerySent, Created: now, Expires: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		offer, err := f.tam.Rollout.Offer(ctx, dev)
		if err != nil {
			t.Fatal(err)
		}
		send, err := f.tam.Rollout.Claim(ctx, offer, token, offer.Envelopes)
		if err != nil {
			t.Fatal(err)
		}
		return len(send)
	}
	if got := sendOnce(0); got != 1 {
		t.Fatalf("first session sent %d envelopes", got)
	}
	if got := sendOnce(1); got != 0 {
		t.Fatalf("a second session while the first may still be answered sent %d", got)
	}
	for i := 2; i <= rollout.DefaultMaxSends; i++ {
		f.tam.Clock.Advance(2 * time.Minute) // the session before expired unanswered
		if got := sendOnce(i); got != 1 {
			t.Fatalf("send %d after the last session expired: %d envelopes", i, got)
		}
	}
	f.tam.Clock.Advance(2 * time.Minute)
	if got := sendOnce(99); got != 0 {
		t.Fatalf("a send past MaxSends: %d envelopes", got)
	}
	del, err := f.tam.Store.Delivery(ctx, r.ID, dev.ID)
	if err != nil || del.State != store.DeliveryFailed || del.Sends != rollout.DefaultMaxSends {
		t.Fatalf("delivery after %d unanswered Updates: %+v, %v", rollout.DefaultMaxSends, del, err)
	}
	f.want(r.ID, store.RolloutHalted, 0, "0/0/0/0/1")
}

func TestCreateRefuses(t *testing.T) {
	f := newFleet(t, 2, nil)
	held := f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true)
	direct := f.author.Publish(t, f.tam, store.TAEnvelope, tamtest.ID("ta", "d"), 1, false)
	f.release("v2", held)
	ctx := t.Context()
	if _, err := f.tam.Rollout.AddGroup(ctx, store.Group{Name: "nobody", Selector: store.Selector{Tag: "absent"}}); err != nil {
		t.Fatal(err)
	}
	one := []rollout.Wave{{Percent: 100}}
	for _, tc := range []struct {
		name string
		spec rollout.Spec
		want error
	}{
		{"no such group", rollout.Spec{Group: "absent", Release: "v2", Waves: one, SuccessThreshold: 50, ErrorThreshold: 50}, store.ErrNotFound},
		{"no such release", rollout.Spec{Group: "all", Release: "absent", Waves: one, SuccessThreshold: 50, ErrorThreshold: 50}, store.ErrNotFound},
		{"an empty group", rollout.Spec{Group: "nobody", Release: "v2", Waves: one, SuccessThreshold: 50, ErrorThreshold: 50}, rollout.ErrEmptyGroup},
		{"no waves", rollout.Spec{Group: "all", Release: "v2", SuccessThreshold: 50, ErrorThreshold: 50}, rollout.ErrInvalid},
		{"success 0%", rollout.Spec{Group: "all", Release: "v2", Waves: one, SuccessThreshold: 0, ErrorThreshold: 50}, rollout.ErrInvalid},
		{"error 101%", rollout.Spec{Group: "all", Release: "v2", Waves: one, SuccessThreshold: 50, ErrorThreshold: 101}, rollout.ErrInvalid},
		{"a wave both count and percentage", rollout.Spec{Group: "all", Release: "v2", Waves: []rollout.Wave{{Count: 1, Percent: 5}}, SuccessThreshold: 50, ErrorThreshold: 50}, rollout.ErrInvalid},
	} {
		if _, err := f.tam.Rollout.Create(ctx, tc.spec); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if rs, _ := f.tam.Store.ListRollouts(ctx); len(rs) != 0 {
		t.Fatalf("refused creates stored %d rollouts", len(rs))
	}
	if _, err := f.tam.Rollout.AddRelease(ctx, "direct", [][]byte{direct.Digest}); !errors.Is(err, rollout.ErrNotHeld) {
		t.Fatalf("a release of a direct envelope: %v, want ErrNotHeld", err)
	}
	for _, g := range []store.Group{
		{Name: "bad-version", Selector: store.Selector{Version: "two"}},
		{Name: "bad-model", Selector: store.Selector{Model: "XYZ"}},
	} {
		if _, err := f.tam.Rollout.AddGroup(ctx, g); !errors.Is(err, rollout.ErrInvalid) {
			t.Errorf("group %s: %v, want ErrInvalid", g.Name, err)
		}
	}
}

// Groups by selector resolve to the registered devices whose model,
// reported version and tags match every field set, by ID.
func TestSelectors(t *testing.T) {
	f := newFleet(t, 3, nil)
	ctx := t.Context()
	var ids []string
	for _, d := range f.all(f.create0()) {
		ids = append(ids, d.ID)
	}
	if err := f.tam.Store.SetTags(ctx, ids[0], []string{"eu", "canary"}); err != nil {
		t.Fatal(err)
	}
	if err := f.tam.Store.SetTags(ctx, ids[2], []string{"eu"}); err != nil {
		t.Fatal(err)
	}
	if err := f.tam.Store.RecordTCs(ctx, ids[2], []store.InstalledTC{{Component: taX, SequenceNumber: 7}}, f.tam.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	dev, err := f.tam.Store.Device(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	model := rollout.Model(dev)
	if model == "" {
		t.Fatal("the rig's endorsement has no model")
	}
	for _, tc := range []struct {
		name string
		sel  store.Selector
		want []string
	}{
		{"tag", store.Selector{Tag: "eu"}, []string{ids[0], ids[2]}},
		{"tag and version", store.Selector{Tag: "eu", Version: "7"}, []string{ids[2]}},
		{"model", store.Selector{Model: model}, ids},
		{"model and tag", store.Selector{Model: model, Tag: "canary"}, []string{ids[0]}},
		{"another model", store.Selector{Model: "00"}, nil},
	} {
		if _, err := f.tam.Rollout.AddGroup(ctx, store.Group{Name: tc.name, Selector: tc.sel}); err != nil {
			t.Fatal(err)
		}
		got, err := f.tam.Rollout.Resolve(ctx, tc.name)
		if tc.want == nil {
			if !errors.Is(err, rollout.ErrEmptyGroup) {
				t.Errorf("%s: %v %v, want ErrEmptyGroup", tc.name, got, err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.name, got, err, tc.want)
		}
	}
}

// The engine wakes the long polls of the devices that may receive the
// release now: wave 0's at creation, the next wave's when it starts,
// everyone's at a resume.
func TestNotify(t *testing.T) {
	f := newFleet(t, 3, nil)
	env := f.author.Publish(t, f.tam, store.TAEnvelope, taX, 2, true)
	f.release("v2", env)
	var notified []string
	eng, err := rollout.New(rollout.Config{Store: f.tam.Store, Now: f.tam.Clock.Now, Rand: tamtest.Seeded(3),
		Notify: func(d string) { notified = append(notified, d) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	r, err := eng.Create(ctx, rollout.Spec{Group: "all", Release: "v2", Waves: []rollout.Wave{{Count: 1}}, SuccessThreshold: 100, ErrorThreshold: 100})
	if err != nil {
		t.Fatal(err)
	}
	w0, w1 := f.wave(r.ID, 0), f.wave(r.ID, 1)
	if fmt.Sprint(notified) != fmt.Sprint([]string{w0[0].ID}) {
		t.Fatalf("at creation notified %v, want wave 0's %s", notified, w0[0].ID)
	}
	token := []byte("session-token-0")
	now := f.tam.Clock.Now()
	if err := f.tam.Store.CreateSession(ctx, store.Session{Token: token, State: store.QuerySent, Created: now, Expires: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	offer, err := eng.Offer(ctx, rollout.Device{ID: w0[0].ID, Attestation: rollout.Affirming, Have: map[string]uint64{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Claim(ctx, offer, token, offer.Envelopes); err != nil {
		t.Fatal(err)
	}
	moves, err := eng.Answered(ctx, w0[0].ID, store.Session{Token: token, Envelopes: [][]byte{env.Digest}}, true, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range moves {
		if err := f.tam.Store.MoveDelivery(ctx, m.Next, m.From, m.Token); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Settle(ctx, moves); err != nil {
		t.Fatal(err)
	}
	want := []string{w0[0].ID, w1[0].ID, w1[1].ID}
	if fmt.Sprint(notified) != fmt.Sprint(want) {
		t.Fatalf("after wave 0 succeeded notified %v, want %v", notified, want)
	}
	if _, err := eng.Pause(ctx, r.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Resume(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(notified) != fmt.Sprint(append(want, "")) {
		t.Fatalf("after resume notified %v, want everyone woken", notified)
	}
}
