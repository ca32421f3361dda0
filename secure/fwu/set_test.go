package fwu_test

import (
	"context"
	"errors"
	"testing"

	"github.com/teeup/teeup/secure/fwu"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
)

// TestStartSet: a whole set starts at once into a set of its own; it
// never joins a set in progress; a refused envelope abandons the set and
// names its outcome last; a failed payload makes Install say ErrSetFailed.
func TestStartSet(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	a := r.taBuild("acme", 1, author.Component{ID: taID("acme", "a"), Payload: []byte("TA a"), URI: "https://tam.example/a"})
	b := r.taBuild("globex", 1, author.Component{ID: taID("globex", "b"), Payload: []byte("TA b"), Integrate: true, Name: "ta"})
	foreign := r.taBuild("globex", 1, author.Component{ID: taID("acme", "evil"), Payload: []byte("evil"), Integrate: true, Name: "ta"})

	// Another set in progress: nothing joins it.
	if _, _, err := r.svc.StartUpdate(ctx, b.envelope); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := r.svc.StartSet(ctx, [][]byte{a.envelope}); !errors.Is(err, fwu.ErrBusy) {
		t.Fatalf("start into a set in progress: %v, want ErrBusy", err)
	}
	if err := r.svc.Cancel(ctx, 0); err != nil {
		t.Fatal(err)
	}

	// A refused envelope abandons the set: the next starts afresh.
	_, _, outcomes, err := r.svc.StartSet(ctx, [][]byte{a.envelope, foreign.envelope})
	if !errors.Is(err, suit.ErrUnauthorized) || len(outcomes) != 2 || outcomes[0].Err != nil || outcomes[1].Err == nil {
		t.Fatalf("a refused envelope: %v, outcomes %+v", err, outcomes)
	}

	// A payload that does not match: the set fails, and Install says so.
	set, reqs, outcomes, err := r.svc.StartSet(ctx, [][]byte{a.envelope, b.envelope})
	if err != nil || len(reqs) != 1 || len(outcomes) != 2 {
		t.Fatalf("start: %v, %d payloads, %d outcomes", err, len(reqs), len(outcomes))
	}
	if err := r.svc.WriteChunk(ctx, set, reqs[0].Index, 0, []byte("TA x")); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Finish(ctx, set, reqs[0].Index); !errors.Is(err, suit.ErrImageMismatch) {
		t.Fatalf("finish: %v", err)
	}
	if err := r.svc.Install(ctx, set); !errors.Is(err, fwu.ErrSetFailed) || !errors.Is(err, fwu.ErrBadState) {
		t.Fatalf("install of a failed set: %v", err)
	}

	// The honest set installs both TAs.
	set, reqs, _, err = r.svc.StartSet(ctx, [][]byte{a.envelope, b.envelope})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Install(ctx, set); !errors.Is(err, fwu.ErrBadState) || errors.Is(err, fwu.ErrSetFailed) {
		t.Fatalf("install before the payload: %v", err)
	}
	if err := r.svc.WriteChunk(ctx, set, reqs[0].Index, 0, []byte("TA a")); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Finish(ctx, set, reqs[0].Index); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Install(ctx, set); err != nil {
		t.Fatal(err)
	}
	if got, want := r.storedTAs(), "['TA','acme','a'] seq 1 image TA a pers ; ['TA','globex','b'] seq 1 image TA b pers ; "; got != want {
		t.Fatalf("store holds %s, want %s", got, want)
	}
}

// TestUnlinkTAs: unlinking keeps the sequence number and drops the data;
// it refuses what is not a TA, skips what is not installed, and waits
// for a set in progress.
func TestUnlinkTAs(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	a := r.taBuild("acme", 3, author.Component{ID: taID("acme", "a"), Payload: []byte("TA a"), Integrate: true, Name: "ta"})
	if err := r.taUpdate(a); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.UnlinkTAs([]suit.ComponentID{{[]byte("normal")}}); !errors.Is(err, suit.ErrRejected) {
		t.Fatalf("unlink of firmware: %v", err)
	}
	b := r.taBuild("acme", 1, author.Component{ID: taID("acme", "b"), Payload: []byte("TA b"), URI: "https://tam.example/b"})
	if _, _, err := r.svc.StartUpdate(ctx, b.envelope); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.UnlinkTAs([]suit.ComponentID{taID("acme", "a")}); !errors.Is(err, fwu.ErrBusy) {
		t.Fatalf("unlink during a set: %v", err)
	}
	if err := r.svc.Cancel(ctx, 0); err != nil {
		t.Fatal(err)
	}
	done, err := r.svc.UnlinkTAs([]suit.ComponentID{taID("acme", "a"), taID("acme", "never")})
	if err != nil || len(done) != 1 {
		t.Fatalf("unlink: %v %v", done, err)
	}
	if got, want := r.storedTAs(), "['TA','acme','a'] unlinked seq 3 image  pers ; "; got != want {
		t.Fatalf("store holds %s, want %s", got, want)
	}
	if done, err := r.svc.UnlinkTAs([]suit.ComponentID{taID("acme", "a")}); err != nil || len(done) != 0 {
		t.Fatalf("unlink again: %v %v", done, err)
	}
}
