package teepsrv_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/teepsrv"
)

// TestWithdrawnTAIsUnlinked, in both numberings: a device runs two TAs;
// one is withdrawn (and a newer version and a personalization of it are
// published after). The next session's Update names it in its
// unneeded-manifest-list (label 14 in draft-26, 15 in the earlier
// numbering) and carries nothing else; the Agent unlinks it and answers
// Success. The session after, its tc-list without the TA, the device gets
// nothing of it, and its record shows the TA gone. Once the withdrawal
// ends the TA is delivered again.
func TestWithdrawnTAIsUnlinked(t *testing.T) {
	rig := devicetest.New(t)
	hello := suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}
	tool := suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("tool")}
	for _, c := range []struct {
		n           teep.Numbering
		unneededKey uint64
	}{{teep.Draft26, 14}, {teep.Legacy, 15}} {
		t.Run(c.n.String(), func(t *testing.T) {
			ctx := context.Background()
			tm := newTAM(t, c.n)
			p := newPublisher(t)
			dev := tm.newDevice(t, rig, p.pub, deviceOptions{})
			p.publish(t, tm, store.TAEnvelope, hello, 1, "")
			p.publish(t, tm, store.TAEnvelope, tool, 1, "")
			if sent := tm.session(t, dev); len(sent) != 2 {
				t.Fatalf("first session: %d messages, want the TAs installed", len(sent))
			}
			if _, ok := dev.tcs.installed[hello.String()]; !ok {
				t.Fatal("hello not installed")
			}

			if err := tm.store.AddWithdrawal(ctx, store.Withdrawal{Component: hello, By: "operator", Created: tm.clock.Now()}); err != nil {
				t.Fatal(err)
			}
			p.publish(t, tm, store.TAEnvelope, hello, 2, "")
			p.publish(t, tm, store.PersonalizationEnvelope, suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello"), []byte("personalization")}, 2, dev.id)

			sent := tm.session(t, dev)
			if len(sent) != 2 {
				t.Fatalf("withdrawal session: %d messages, want QueryRequest and Update", len(sent))
			}
			u, ok := tm.open(t, sent[1]).(*teep.Update)
			if !ok || len(u.Manifests) != 0 || len(u.UnneededManifests) != 1 || !suit.ComponentID(u.UnneededManifests[0]).Equal(hello) {
				t.Fatalf("Update %#v, want hello unneeded and no manifest", tm.open(t, sent[1]))
			}
			if got := unneededLabel(t, sent[1]); got != c.unneededKey {
				t.Fatalf("unneeded-manifest-list under label %d, want %d in %s", got, c.unneededKey, c.n)
			}
			if _, ok := dev.tcs.installed[hello.String()]; ok {
				t.Fatal("the Agent still holds hello")
			}
			rs, err := tm.store.Reports(ctx, dev.id, 1)
			if err != nil || len(rs) != 1 || !rs[0].Success || len(rs[0].Envelopes) != 0 {
				t.Fatalf("last report %+v (%v), want the Success of the unlink", rs, err)
			}

			// The next tc-list has no hello: nothing of it is sent, and the
			// device's record shows it gone.
			if sent := tm.session(t, dev); len(sent) != 1 {
				t.Fatalf("after the unlink: %d messages (%#v), want the QueryRequest alone", len(sent), tm.open(t, sent[len(sent)-1]))
			}
			d, err := tm.store.Device(ctx, dev.id)
			if err != nil || len(d.TCs) != 1 || !d.TCs[0].Component.Equal(tool) || d.LastError != "" {
				t.Fatalf("device record %+v (%v), want tool alone and no error", d.TCs, err)
			}

			// Withdrawal ended: the TA (its newest version) comes back.
			if err := tm.store.DeleteWithdrawal(ctx, hello); err != nil {
				t.Fatal(err)
			}
			if sent := tm.session(t, dev); len(sent) != 2 {
				t.Fatalf("after the withdrawal ended: %d messages, want the TA sent again", len(sent))
			}
			if tc, ok := dev.tcs.installed[hello.String()]; !ok || tc.SequenceNumber != 2 {
				t.Fatalf("hello after the withdrawal ended: %+v, %v", tc, ok)
			}
		})
	}
}

// unneededLabel is the option label under which a signed Update carries
// its unneeded-manifest-list, read from the wire: COSE_Sign1 (tag 18)
// [protected, unprotected, payload, signature], the payload
// [type, options].
func unneededLabel(t *testing.T, msg []byte) uint64 {
	t.Helper()
	var sign1 cbor.Tag
	if err := cbor.Unmarshal(msg, &sign1); err != nil || sign1.Number != 18 {
		t.Fatalf("not a COSE_Sign1: %v", err)
	}
	parts, ok := sign1.Content.([]any)
	if !ok || len(parts) != 4 {
		t.Fatalf("COSE_Sign1 of %T", sign1.Content)
	}
	payload, _ := parts[2].([]byte)
	var m []cbor.RawMessage
	if err := cbor.Unmarshal(payload, &m); err != nil || len(m) != 2 {
		t.Fatalf("Update payload: %v", err)
	}
	var options map[uint64]cbor.RawMessage
	if err := cbor.Unmarshal(m[1], &options); err != nil {
		t.Fatalf("Update options: %v", err)
	}
	found := uint64(0)
	for k, v := range options {
		var ids [][][]byte
		if cbor.Unmarshal(v, &ids) == nil && len(ids) == 1 && suit.ComponentID(ids[0]).String() == "['TA','acme','hello']" {
			found = k
		}
	}
	return found
}

// TestUnlinkRefusedIsNotSentForever: a device whose Agent cannot unlink a
// withdrawn TA answers each unlinking Update with an Error; after
// MaxRefusals of them the TAM holds the unlink back and delivers what else
// the device needs, then tries the unlink again after that Success, and
// the device, able again, unlinks it.
func TestUnlinkRefusedIsNotSentForever(t *testing.T) {
	rig := devicetest.New(t)
	ctx := context.Background()
	hello := suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}
	tool := suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("tool")}
	tm := newTAM(t, teep.Draft26)
	p := newPublisher(t)
	dev := tm.newDevice(t, rig, p.pub, deviceOptions{})
	p.publish(t, tm, store.TAEnvelope, hello, 1, "")
	if sent := tm.session(t, dev); len(sent) != 2 {
		t.Fatalf("first session: %d messages, want hello installed", len(sent))
	}
	if err := tm.store.AddWithdrawal(ctx, store.Withdrawal{Component: hello, By: "operator", Created: tm.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	p.publish(t, tm, store.TAEnvelope, tool, 1, "")
	dev.tcs.unlinkFail = errors.New("the TA store is busy")

	update := func(i int) *teep.Update {
		t.Helper()
		sent := tm.session(t, dev)
		if len(sent) != 2 {
			t.Fatalf("session %d: %d messages, want an Update", i, len(sent))
		}
		u, ok := tm.open(t, sent[1]).(*teep.Update)
		if !ok {
			t.Fatalf("session %d: %T, want an Update", i, tm.open(t, sent[1]))
		}
		return u
	}
	for i := range teepsrv.MaxRefusals {
		if u := update(i); len(u.UnneededManifests) != 1 || len(u.Manifests) != 0 {
			t.Fatalf("refusal %d: Update unlinks %d and carries %d, want the unlink alone", i, len(u.UnneededManifests), len(u.Manifests))
		}
	}
	if d, err := tm.store.Device(ctx, dev.id); err != nil || !strings.Contains(d.LastError, "the TA store is busy") {
		t.Fatalf("last error %q (%v), want the Agent's", d.LastError, err)
	}
	if u := update(teepsrv.MaxRefusals); len(u.UnneededManifests) != 0 || len(u.Manifests) != 1 {
		t.Fatalf("after %d refusals: Update unlinks %d and carries %d, want tool alone", teepsrv.MaxRefusals, len(u.UnneededManifests), len(u.Manifests))
	}
	if _, ok := dev.tcs.installed[tool.String()]; !ok {
		t.Fatal("tool was not delivered while the unlink was held back")
	}
	dev.tcs.unlinkFail = nil
	if u := update(teepsrv.MaxRefusals + 1); len(u.UnneededManifests) != 1 || len(u.Manifests) != 0 {
		t.Fatalf("after the Success: Update unlinks %d and carries %d, want the unlink again", len(u.UnneededManifests), len(u.Manifests))
	}
	if _, ok := dev.tcs.installed[hello.String()]; ok {
		t.Fatal("hello still installed")
	}
	if sent := tm.session(t, dev); len(sent) != 1 {
		t.Fatalf("at the end: %d messages, want the QueryRequest alone", len(sent))
	}
}
