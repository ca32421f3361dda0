package teepsrv_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/teepsrv"
)

// Each session a device ends is in its log, with how it ended: an Update
// answered with Error then with Success, a session with nothing to send,
// evidence that is not trustworthy, and an Update that got no answer,
// logged as expired when a later session's sweep drops it.
func TestSessionsAreLogged(t *testing.T) {
	rig := devicetest.New(t)
	tm := newTAM(t, teep.Draft26)
	p := newPublisher(t)
	dev := tm.newDevice(t, rig, p.pub, deviceOptions{})
	ctx := context.Background()
	ta := p.publish(t, tm, store.TAEnvelope, taA, 1, "")

	dev.tcs.fail = errors.New("flash full")
	tm.session(t, dev) // error
	dev.tcs.fail = nil
	tm.clock.Advance(teepsrv.DefaultSessionLifetime / 4)
	tm.session(t, dev) // success
	tm.clock.Advance(teepsrv.DefaultSessionLifetime / 4)
	tm.session(t, dev) // up to date
	tm.clock.Advance(teepsrv.DefaultSessionLifetime / 4)
	dev.att.nonce = []byte("an old challenge, replayed")
	tm.session(t, dev) // refused
	dev.att.nonce = nil

	// An Update the device never answers (its answer is lost).
	p.publish(t, tm, store.TAEnvelope, taA, 2, "")
	qr, _ := tm.handle(t, nil)
	update, err := tm.handle(t, dev.answer(t, qr))
	if err != nil || update == nil {
		t.Fatalf("no Update: %v", err)
	}
	started := tm.clock.Now()
	tm.clock.Advance(2 * teepsrv.DefaultSessionLifetime)
	if _, err := tm.handle(t, nil); err != nil { // opens a session; its sweep logs the expired one
		t.Fatal(err)
	}

	log, err := tm.store.SessionLog(ctx, dev.id, store.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.SessionOutcome{store.OutcomeExpired, store.OutcomeRefused, store.OutcomeUpToDate, store.OutcomeSuccess, store.OutcomeError}
	if len(log) != len(want) {
		t.Fatalf("%d sessions logged, want %d: %+v", len(log), len(want), log)
	}
	for i, r := range log {
		if r.Outcome != want[i] || r.Device != dev.id || r.Ended.Before(r.Started) || r.Numbering != uint8(teep.Draft26) {
			t.Errorf("log[%d] = %+v, want %s", i, r, want[i])
		}
	}
	if !strings.Contains(log[4].Detail, "ERR_MANIFEST_PROCESSING_FAILED") || len(log[4].Envelopes) != 1 {
		t.Errorf("the Error's entry %+v, want its code and the envelope it carried", log[4])
	}
	if string(log[3].Envelopes[0]) != string(ta.Digest) {
		t.Errorf("the Success's entry carried %x, want the TA %x", log[3].Envelopes, ta.Digest)
	}
	if !strings.HasPrefix(log[1].Detail, "contraindicated") || len(log[1].Envelopes) != 0 {
		t.Errorf("the refusal's entry %+v, want the appraisal and nothing sent", log[1])
	}
	if !log[0].Started.Equal(started) || !log[0].Ended.Equal(started.Add(teepsrv.DefaultSessionLifetime)) || len(log[0].Envelopes) != 1 {
		t.Errorf("the expired entry %+v, want started at %v, ended at its expiry, with its envelope", log[0], started)
	}
}
