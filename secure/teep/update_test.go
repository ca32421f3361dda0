package teep

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// handleRaw signs m as the TAM in n and hands it to the Agent, returning
// its answer as it is.
func (r *rig) handleRaw(t *testing.T, m Message, n Numbering) Answer {
	t.Helper()
	data, err := Sign(m, n, r.tam)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := r.agent.Handle(context.Background(), data)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return ans
}

// TestAgentUpdateWaitsForPayloads: an Update whose install set needs a
// payload is answered with the payload, not a message; Continue before it
// is written leaves the set waiting; once written, Continue commits the
// set and answers Success with every report, in the Update's numbering;
// nothing is left to continue after.
func TestAgentUpdateWaitsForPayloads(t *testing.T) {
	t.Parallel()
	for _, n := range []Numbering{Draft26, Legacy} {
		t.Run(n.String(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := newRig(t)
			r.send(t, query(tokenN(1), challengeN(1)), n)
			ans := r.handleRaw(t, &Update{Token: tokenN(1), UnneededManifests: []ComponentID{{[]byte("old")}},
				Manifests: []Manifest{{Envelope: envelope}, {Envelope: fetchEnvelope}}}, n)
			if ans.Message != nil || ans.Set != 1 || len(ans.Payloads) != 1 || ans.Payloads[0].URI != "https://tam.example/payloads/01" {
				t.Fatalf("answer %+v", ans)
			}
			if _, err := r.agent.Continue(ctx); !errors.Is(err, ErrNotReady) {
				t.Fatalf("continue before the payload is written: %v", err)
			}
			r.tcs.write()
			ans, err := r.agent.Continue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ok, isSuccess := r.open(t, ans, n).(*Success)
			if !isSuccess || !bytes.Equal(ok.Token, tokenN(1)) || len(ok.SUITReports) != 3 || ans.Reboot {
				t.Fatalf("answer %+v, reboot %v", ok, ans.Reboot)
			}
			if want := []string{"unlink old", "start set 1 of 2", "commit set 1"}; !reflect.DeepEqual(r.tcs.log, want) {
				t.Fatalf("operations %q, want %q", r.tcs.log, want)
			}
			if _, err := r.agent.Continue(ctx); !errors.Is(err, ErrNothingPending) {
				t.Fatalf("a second continue: %v", err)
			}
		})
	}
}

// TestAgentPendingSet: what becomes of an install set that waits for its
// payloads: it fails with reports, stages firmware (Reboot), expires with
// the token lifetime and is cancelled, is superseded by a newer Update,
// or is ended by the TAM's Error. Every way, nothing is left open.
func TestAgentPendingSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	waiting := func(t *testing.T, r *rig, tok byte, manifests ...Manifest) {
		t.Helper()
		r.send(t, query(tokenN(tok), challengeN(tok)), Draft26)
		if ans := r.handleRaw(t, &Update{Token: tokenN(tok), Manifests: manifests}, Draft26); ans.Payloads == nil {
			t.Fatalf("answer %+v, want payloads", ans)
		}
	}
	tests := []struct {
		name   string
		second []byte                     // the set's second envelope
		run    func(t *testing.T, r *rig) // after the set waits
		ops    []string
		answer func(t *testing.T, r *rig, ans Answer, err error)
	}{
		{"fails", badEnvelope, func(t *testing.T, r *rig) { r.tcs.write() },
			[]string{"start set 1 of 2", "commit set 1", "cancel set 1"},
			func(t *testing.T, r *rig, ans Answer, err error) {
				if err != nil {
					t.Fatal(err)
				}
				e := wantError(t, r.open(t, ans, Draft26), ErrManifestProcessingFailed)
				if len(e.SUITReports) != 1 || !bytes.Equal(e.Token, tokenN(1)) || ans.Reboot {
					t.Fatalf("error %+v", e)
				}
			}},
		{"stages firmware", firmwareEnvelope, func(t *testing.T, r *rig) { r.tcs.write() },
			[]string{"start set 1 of 2", "commit set 1"},
			func(t *testing.T, r *rig, ans Answer, err error) {
				if _, ok := r.open(t, ans, Draft26).(*Success); !ok || err != nil || !ans.Reboot {
					t.Fatalf("answer %+v %v", ans, err)
				}
			}},
		{"expires", envelope, func(t *testing.T, r *rig) { r.tcs.write(); r.now = r.now.Add(time.Minute) },
			[]string{"start set 1 of 2", "cancel set 1"},
			func(t *testing.T, r *rig, ans Answer, err error) {
				if !errors.Is(err, ErrNothingPending) || ans.Message != nil {
					t.Fatalf("answer %+v %v", ans, err)
				}
			}},
		{"superseded", envelope, func(t *testing.T, r *rig) {
			r.send(t, query(tokenN(2), challengeN(2)), Draft26)
			if _, ok := r.send(t, &Update{Token: tokenN(2), Manifests: []Manifest{{Envelope: envelope}}}, Draft26).(*Success); !ok {
				t.Fatal("the newer Update failed")
			}
		}, []string{"start set 1 of 2", "cancel set 1", "start set 2 of 1", "commit set 2"},
			func(t *testing.T, r *rig, ans Answer, err error) {
				if !errors.Is(err, ErrNothingPending) {
					t.Fatalf("answer %+v %v", ans, err)
				}
			}},
		{"ended by the TAM", envelope, func(t *testing.T, r *rig) {
			if ans := r.handleRaw(t, &Error{Token: tokenN(1), Code: ErrTemporaryError}, Draft26); ans.Message != nil {
				t.Fatalf("answered the TAM's Error: %+v", ans)
			}
		}, []string{"start set 1 of 2", "cancel set 1"},
			func(t *testing.T, r *rig, ans Answer, err error) {
				if !errors.Is(err, ErrNothingPending) {
					t.Fatalf("answer %+v %v", ans, err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			waiting(t, r, 1, Manifest{Envelope: fetchEnvelope}, Manifest{Envelope: tt.second})
			tt.run(t, r)
			ans, err := r.agent.Continue(ctx)
			tt.answer(t, r, ans, err)
			if !reflect.DeepEqual(r.tcs.log, tt.ops) {
				t.Fatalf("operations %q, want %q", r.tcs.log, tt.ops)
			}
			if r.tcs.open != nil {
				t.Fatalf("set %d left open", r.tcs.open.id)
			}
		})
	}
}

// TestAgentBusy: an Update that finds another install set in progress in
// the secure world gets ERR_TEMPORARY_ERROR: the TAM may try again.
func TestAgentBusy(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.tcs.busy = true
	r.send(t, query(tokenN(1), challengeN(1)), Draft26)
	e := wantError(t, r.send(t, &Update{Token: tokenN(1), Manifests: []Manifest{{Envelope: envelope}}}, Draft26), ErrTemporaryError)
	if !bytes.Equal(e.Token, tokenN(1)) {
		t.Fatalf("error %+v", e)
	}
}
