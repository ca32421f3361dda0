package teepsrv

import (
	"bytes"
	"slices"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	id := func(s string) suit.ComponentID { return suit.ComponentID{[]byte(s)} }
	env := func(kind store.EnvelopeKind, c string, seq uint64) store.Envelope {
		return store.Envelope{Digest: []byte(c + string(rune('0'+seq))), Kind: kind, Components: []suit.ComponentID{id(c)}, SequenceNumber: seq}
	}
	ta1, ta2 := env(store.TAEnvelope, "ta-1", 2), env(store.TAEnvelope, "ta-2", 1)
	cfg := env(store.PersonalizationEnvelope, "ta-1-config", 1)
	sec, nor := env(store.FirmwareEnvelope, "secure", 2), env(store.FirmwareEnvelope, "normal", 2)
	latest := []store.Envelope{sec, cfg, ta2, nor, ta1}
	cases := []struct {
		name string
		have map[string]uint64
		want []store.Envelope
	}{
		{"a new device gets TAs, then their personalization, no firmware",
			map[string]uint64{"['secure']": 1, "['normal']": 1}, []store.Envelope{ta1, ta2, cfg}},
		{"an older TA is updated", map[string]uint64{"['ta-1']": 1, "['ta-2']": 1, "['ta-1-config']": 1,
			"['secure']": 2, "['normal']": 2}, []store.Envelope{ta1}},
		{"a newer TA than published is left alone", map[string]uint64{"['ta-1']": 3, "['ta-2']": 1, "['ta-1-config']": 1,
			"['secure']": 2, "['normal']": 2}, nil},
		{"the firmware pair once the TAs are current", map[string]uint64{"['ta-1']": 2, "['ta-2']": 1, "['ta-1-config']": 1,
			"['secure']": 1, "['normal']": 1}, []store.Envelope{nor, sec}},
		{"one half of the pair behind", map[string]uint64{"['ta-1']": 2, "['ta-2']": 1, "['ta-1-config']": 1,
			"['secure']": 2, "['normal']": 1}, []store.Envelope{nor}},
	}
	for _, c := range cases {
		got, _ := decide(append([]store.Envelope(nil), latest...), c.have, history{})
		if len(got) != len(c.want) {
			t.Errorf("%s: %d envelopes, want %d", c.name, len(got), len(c.want))
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i].Digest, c.want[i].Digest) {
				t.Errorf("%s: envelope %d is %s, want %s", c.name, i, got[i].Components[0], c.want[i].Components[0])
			}
		}
	}
	// Personalization a Success reported installed is not sent again.
	past := historyOf([]store.Report{{Success: true, Envelopes: [][]byte{cfg.Digest}}})
	got, _ := decide(append([]store.Envelope(nil), latest...), map[string]uint64{"['secure']": 2, "['normal']": 2}, past)
	if len(got) != 2 || !bytes.Equal(got[0].Digest, ta1.Digest) || !bytes.Equal(got[1].Digest, ta2.Digest) {
		t.Errorf("with the personalization delivered: %d envelopes, want the two TAs only", len(got))
	}
	many := make([]store.Envelope, MaxUpdateManifests+3)
	for i := range many {
		many[i] = env(store.TAEnvelope, "ta-"+string(rune('a'+i)), 1)
	}
	if got, _ := decide(many, nil, history{}); len(got) != MaxUpdateManifests {
		t.Errorf("%d TAs to send: an Update of %d, want %d", len(many), len(got), MaxUpdateManifests)
	}
}

// installed takes the higher version of the Agent's tc-list and the
// verified evidence for each component.
func TestInstalled(t *testing.T) {
	t.Parallel()
	entry := func(id suit.ComponentID, seq uint64) cbor.RawMessage {
		b, err := cbor.Marshal(map[int64]any{0: id, teep.ClaimSequenceNumber: seq})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tcs, err := installedTCs([]cbor.RawMessage{entry(suit.ComponentID{[]byte("ta")}, 4), entry(suit.ComponentID{[]byte("secure")}, 1)})
	if err != nil {
		t.Fatal(err)
	}
	have := installed(tcs, &attest.Claims{Components: []attest.Component{{Name: "['secure']", Sequence: 3}, {Name: "['normal']", Sequence: 2}}})
	want := map[string]uint64{"['ta']": 4, "['secure']": 3, "['normal']": 2}
	for k, v := range want {
		if have[k] != v {
			t.Errorf("%s at %d, want %d", k, have[k], v)
		}
	}
	for _, bad := range []cbor.RawMessage{{0xa0}, {0x80}, {0xa1, 0x00, 0x80}, entry(suit.ComponentID{[]byte("x")}, 1)[:3]} {
		if _, err := installedTCs([]cbor.RawMessage{bad}); err == nil {
			t.Errorf("tc-list entry %x accepted", bad)
		}
	}
}

// A TA and its personalization never share an Update: the secure world's
// install set holds one envelope per TA. The personalization follows in
// the next Update, with the TAs still to come, or alone.
func TestDecidePersonalizationAfterItsTA(t *testing.T) {
	t.Parallel()
	id := func(parts ...string) suit.ComponentID {
		c := make(suit.ComponentID, len(parts))
		for i, p := range parts {
			c[i] = []byte(p)
		}
		return c
	}
	env := func(kind store.EnvelopeKind, c suit.ComponentID, seq uint64) store.Envelope {
		return store.Envelope{Digest: []byte(c.String()), Kind: kind, Components: []suit.ComponentID{c}, SequenceNumber: seq}
	}
	hello := env(store.TAEnvelope, id("TA", "acme", "hello"), 1)
	helloConf := env(store.PersonalizationEnvelope, id("TA", "acme", "hello", "personalization"), 1)
	clock := env(store.TAEnvelope, id("TA", "globex", "clock"), 3)
	clockConf := env(store.PersonalizationEnvelope, id("TA", "globex", "clock", "personalization"), 3)
	latest := []store.Envelope{helloConf, clockConf, clock, hello}
	cases := []struct {
		name string
		have map[string]uint64
		want []store.Envelope
	}{
		{"both TAs missing: the TAs alone", nil, []store.Envelope{hello, clock}},
		{"hello installed: clock, and hello's personalization", map[string]uint64{"['TA','acme','hello']": 1},
			[]store.Envelope{clock, helloConf}},
		{"both installed: both personalizations", map[string]uint64{"['TA','acme','hello']": 1, "['TA','globex','clock']": 3},
			[]store.Envelope{helloConf, clockConf}},
		{"hello behind: its update, clock's personalization", map[string]uint64{"['TA','acme','hello']": 0, "['TA','globex','clock']": 3},
			[]store.Envelope{hello, clockConf}},
	}
	for _, c := range cases {
		got, _ := decide(append([]store.Envelope(nil), latest...), c.have, history{})
		var names, want []string
		for _, e := range got {
			names = append(names, e.Components[0].String())
		}
		for _, e := range c.want {
			want = append(want, e.Components[0].String())
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: %v, want %v", c.name, names, want)
		}
	}
}

// A device that refuses an envelope is not sent it forever: a refused
// envelope goes alone (another's fault cannot hold it back), and after
// MaxRefusals it is held back with its reason, as is a personalization
// signed for an older TA than the device runs.
func TestDecideHoldsBackWhatTheDeviceRefuses(t *testing.T) {
	t.Parallel()
	id := func(parts ...string) suit.ComponentID {
		var c suit.ComponentID
		for _, p := range parts {
			c = append(c, []byte(p))
		}
		return c
	}
	env := func(kind store.EnvelopeKind, c suit.ComponentID, seq uint64) store.Envelope {
		return store.Envelope{Digest: []byte(c.String()), Kind: kind, Components: []suit.ComponentID{c}, SequenceNumber: seq}
	}
	hello := env(store.TAEnvelope, id("TA", "acme", "hello"), 2)
	clock := env(store.TAEnvelope, id("TA", "globex", "clock"), 1)
	helloConf := env(store.PersonalizationEnvelope, id("TA", "acme", "hello", "personalization"), 1)
	refused := func(n int, es ...store.Envelope) []store.Report {
		var rs []store.Report
		for range n {
			r := store.Report{ErrCode: 1}
			for _, e := range es {
				r.Envelopes = append(r.Envelopes, e.Digest)
			}
			rs = append(rs, r)
		}
		return rs
	}
	cases := []struct {
		name    string
		latest  []store.Envelope
		have    map[string]uint64
		reports []store.Report // newest first
		want    []store.Envelope
		held    []store.Envelope
	}{
		{"nothing refused: both TAs together", []store.Envelope{hello, clock}, nil, nil,
			[]store.Envelope{hello, clock}, nil},
		{"refused once together: the first alone", []store.Envelope{hello, clock}, nil, refused(1, hello, clock),
			[]store.Envelope{hello}, nil},
		{"clock refused twice: it goes alone, hello waits", []store.Envelope{hello, clock}, nil, refused(2, clock),
			[]store.Envelope{clock}, nil},
		{"clock refused MaxRefusals times: held back, hello goes", []store.Envelope{hello, clock}, nil, refused(MaxRefusals, clock),
			[]store.Envelope{hello}, []store.Envelope{clock}},
		{"refusals before a Success do not count", []store.Envelope{hello, clock}, nil,
			append([]store.Report{{Success: true, Envelopes: [][]byte{clock.Digest}}}, refused(MaxRefusals, clock)...),
			[]store.Envelope{hello, clock}, nil},
		{"personalization for an older TA than the device runs: held back", []store.Envelope{helloConf},
			map[string]uint64{"['TA','acme','hello']": 2}, nil, nil, []store.Envelope{helloConf}},
		{"personalization for the TA the device runs: sent", []store.Envelope{helloConf},
			map[string]uint64{"['TA','acme','hello']": 1}, nil, []store.Envelope{helloConf}, nil},
	}
	names := func(es []store.Envelope) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Components[0].String())
		}
		return out
	}
	for _, c := range cases {
		got, held := decide(append([]store.Envelope(nil), c.latest...), c.have, historyOf(c.reports))
		if !slices.Equal(names(got), names(c.want)) {
			t.Errorf("%s: sent %v, want %v", c.name, names(got), names(c.want))
		}
		var heldEnvs []store.Envelope
		for _, h := range held {
			if h.reason == "" {
				t.Errorf("%s: %s held back without a reason", c.name, h.envelope.Components[0])
			}
			heldEnvs = append(heldEnvs, h.envelope)
		}
		if !slices.Equal(names(heldEnvs), names(c.held)) {
			t.Errorf("%s: held back %v, want %v", c.name, names(heldEnvs), names(c.held))
		}
	}
}
