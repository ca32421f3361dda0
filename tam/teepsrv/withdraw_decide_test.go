package teepsrv

import (
	"slices"
	"strings"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
)

// TestDecideWithdrawn: a withdrawn TA the device lists is unlinked, alone;
// the envelopes of a withdrawn TA (its own, its personalization, a
// rollout's) are never offered; a record of a component that is not a TA
// is ignored.
func TestDecideWithdrawn(t *testing.T) {
	t.Parallel()
	id := func(parts ...string) suit.ComponentID {
		c := make(suit.ComponentID, len(parts))
		for i, p := range parts {
			c[i] = []byte(p)
		}
		return c
	}
	hello, tool, other := id("TA", "acme", "hello"), id("TA", "acme", "tool"), id("TA", "globex", "wallet")
	helloCfg := id("TA", "acme", "hello", "personalization")
	env := func(kind store.EnvelopeKind, c suit.ComponentID, seq uint64) store.Envelope {
		return store.Envelope{Digest: []byte(c.String() + string(rune('0'+seq))), Kind: kind, Components: []suit.ComponentID{c}, SequenceNumber: seq}
	}
	helloV2, helloPers, toolV1, otherV1 := env(store.TAEnvelope, hello, 2), env(store.PersonalizationEnvelope, helloCfg, 2),
		env(store.TAEnvelope, tool, 1), env(store.TAEnvelope, other, 1)
	normal := env(store.FirmwareEnvelope, id("normal"), 2)
	withdrawn := func(cs ...suit.ComponentID) []store.Withdrawal {
		var ws []store.Withdrawal
		for _, c := range cs {
			ws = append(ws, store.Withdrawal{Component: c, By: "operator"})
		}
		return ws
	}
	tcs := func(cs ...suit.ComponentID) []store.InstalledTC {
		var out []store.InstalledTC
		for _, c := range cs {
			out = append(out, store.InstalledTC{Component: c, SequenceNumber: 1})
		}
		return out
	}
	latest := []store.Envelope{helloV2, helloPers, toolV1, normal}
	cases := []struct {
		name       string
		withdrawn  []store.Withdrawal
		tcs        []store.InstalledTC
		offer      []store.Envelope // a rollout's
		wantUnlink []suit.ComponentID
		want       []store.Envelope
	}{
		{name: "nothing withdrawn", tcs: tcs(hello, tool), want: []store.Envelope{helloV2}},
		{name: "nothing withdrawn, the TA current: its personalization", tcs: append(tcs(tool), store.InstalledTC{Component: hello, SequenceNumber: 2}),
			want: []store.Envelope{helloPers}},
		{name: "a withdrawn TA the device runs is unlinked, alone", withdrawn: withdrawn(hello), tcs: tcs(hello),
			wantUnlink: []suit.ComponentID{hello}},
		{name: "two withdrawn TAs, in the tc-list's order", withdrawn: withdrawn(hello, tool), tcs: tcs(other, tool, hello),
			offer: []store.Envelope{otherV1}, wantUnlink: []suit.ComponentID{tool, hello}},
		{name: "after the unlink: neither the TA nor its personalization comes back, the firmware does", withdrawn: withdrawn(hello),
			tcs: tcs(tool), want: []store.Envelope{normal}},
		{name: "a device without it is never sent it", withdrawn: withdrawn(hello), want: []store.Envelope{toolV1}},
		{name: "nor by a rollout", withdrawn: withdrawn(hello, other), offer: []store.Envelope{otherV1, env(store.TAEnvelope, hello, 3)},
			want: []store.Envelope{toolV1}},
		{name: "a withdrawn component that is not a TA is ignored", withdrawn: withdrawn(id("normal"), id("TA", "acme")),
			tcs: tcs(id("normal"), tool), want: []store.Envelope{helloV2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := withdrawalsFor(c.withdrawn, c.tcs, nil)
			if !slices.EqualFunc(w.unlink, c.wantUnlink, func(a teep.ComponentID, b suit.ComponentID) bool { return suit.ComponentID(a).Equal(b) }) {
				t.Fatalf("unlink %v, want %v", w.unlink, c.wantUnlink)
			}
			have := installed(c.tcs, nil)
			have["['normal']"] = max(have["['normal']"], 1)
			var offer *rollout.Offer
			if c.offer != nil {
				offer = &rollout.Offer{Envelopes: c.offer}
			}
			got, _ := decide(w.deliverable(candidates(slices.Clone(latest), offer)), have, history{})
			if !slices.EqualFunc(got, c.want, func(a, b store.Envelope) bool { return string(a.Digest) == string(b.Digest) }) {
				var names []string
				for _, e := range got {
					names = append(names, string(e.Digest))
				}
				t.Fatalf("sent %q, want %d envelopes", names, len(c.want))
			}
		})
	}
	// The unlink list is bounded as the tc-list is.
	var many []store.Withdrawal
	var all []store.InstalledTC
	for i := range teep.MaxTCs + 5 {
		c := id("TA", "acme", string(rune('a'+i%26))+string(rune('a'+i/26)))
		many = append(many, store.Withdrawal{Component: c})
		all = append(all, store.InstalledTC{Component: c})
	}
	if w := withdrawalsFor(many, append(all, all[0]), nil); len(w.unlink) != teep.MaxTCs {
		t.Fatalf("%d to unlink, want at most %d", len(w.unlink), teep.MaxTCs)
	}
}

// TestDecideUnlinkRefused: an unlink the device refused MaxRefusals times
// since its last Success (the Errors to Updates without envelopes) is held
// back with its reason, and the rest is offered; a Success in between, or
// the refusals of envelopes, do not count.
func TestDecideUnlinkRefused(t *testing.T) {
	t.Parallel()
	hello := suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}
	ws := []store.Withdrawal{{Component: hello}}
	tcs := []store.InstalledTC{{Component: hello, SequenceNumber: 1}}
	unlinkErr := store.Report{ErrCode: uint64(teep.ErrManifestProcessingFailed), ErrMsg: "unlink: busy"}
	envelopeErr := store.Report{ErrCode: uint64(teep.ErrManifestProcessingFailed), Envelopes: [][]byte{{1}}}
	ok := store.Report{Success: true}
	cases := []struct {
		name     string
		reports  []store.Report // newest first
		wantHeld bool
	}{
		{"no answer yet", nil, false},
		{"refused fewer times than MaxRefusals", []store.Report{unlinkErr, unlinkErr}, false},
		{"refused MaxRefusals times", []store.Report{unlinkErr, unlinkErr, unlinkErr}, true},
		{"a Success since", []store.Report{unlinkErr, unlinkErr, ok, unlinkErr}, false},
		{"envelopes refused are not the unlink's", []store.Report{unlinkErr, envelopeErr, unlinkErr, envelopeErr}, false},
	}
	for _, c := range cases {
		w := withdrawalsFor(ws, tcs, c.reports)
		if held := len(w.held) > 0; held != c.wantHeld || held == (len(w.unlink) > 0) {
			t.Errorf("%s: held %v, unlink %v", c.name, w.held, w.unlink)
		}
		if c.wantHeld && !strings.Contains(w.held[0].reason, "unlink: busy") {
			t.Errorf("%s: reason %q, want the device's last error in it", c.name, w.held[0].reason)
		}
	}
}
