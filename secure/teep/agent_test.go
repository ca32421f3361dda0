package teep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/teeup/teeup/secure/suit"
)

// nonceAttester is the test's attestation: the evidence is the nonce it
// is bound to, so that a test sees the binding.
type nonceAttester struct{}

func (nonceAttester) Evidence(nonce []byte) (string, []byte, error) {
	return "application/test-evidence", append([]byte("evidence:"), nonce...), nil
}

// memTCs is an in-memory TA store with install-set semantics: all of a set
// or nothing. An envelope equal to badEnvelope fails the set when it is
// committed; one equal to fetchEnvelope waits for a payload (write), one
// equal to firmwareEnvelope stages firmware. busy makes Start find
// another set in progress. It records the order of the operations.
type memTCs struct {
	installed map[string]TC
	wanted    []RequestedTC
	busy      bool
	log       []string

	nextSet uint64
	open    *memSet
}

type memSet struct {
	id        uint64
	envelopes [][]byte
	waiting   bool // for its payload
}

var (
	badEnvelope      = []byte{0xa1, 0x00, 0x00}
	fetchEnvelope    = []byte{0xa1, 0x00, 0x01}
	firmwareEnvelope = []byte{0xa1, 0x00, 0x02}
)

func newMemTCs() *memTCs {
	return &memTCs{installed: map[string]TC{
		"old": {ID: ComponentID{[]byte("old")}, SequenceNumber: 4},
	}, nextSet: 1}
}

func (s *memTCs) Installed() ([]TC, error) {
	var out []TC
	for _, k := range []string{"new", "old"} {
		if tc, ok := s.installed[k]; ok {
			out = append(out, tc)
		}
	}
	return out, nil
}

func (s *memTCs) Wanted() ([]RequestedTC, error) { return s.wanted, nil }

func (s *memTCs) Unlink(_ context.Context, ids []ComponentID) ([][]byte, error) {
	var reports [][]byte
	for _, id := range ids {
		s.log = append(s.log, "unlink "+string(id[0]))
		delete(s.installed, string(id[0]))
		reports = append(reports, []byte{0x41, id[0][0]})
	}
	return reports, nil
}

func (s *memTCs) Start(_ context.Context, envelopes [][]byte) (InstallSet, [][]byte, error) {
	if s.busy || s.open != nil {
		return InstallSet{}, nil, fmt.Errorf("%w: set %d", ErrBusy, s.nextSet-1)
	}
	set := &memSet{id: s.nextSet, envelopes: envelopes}
	s.nextSet++
	s.log = append(s.log, fmt.Sprintf("start set %d of %d", set.id, len(envelopes)))
	var out InstallSet
	out.Set = set.id
	for _, e := range envelopes {
		if bytes.Equal(e, fetchEnvelope) {
			set.waiting = true
			out.Payloads = append(out.Payloads, Payload{Index: 0, Component: ComponentID{[]byte("new")}, URI: "https://tam.example/payloads/01", Size: 3})
		}
	}
	s.open = set
	return out, nil, nil
}

// write is the normal world writing the open set's payload.
func (s *memTCs) write() { s.open.waiting = false }

func (s *memTCs) Commit(_ context.Context, set uint64) (bool, [][]byte, error) {
	if s.open == nil || s.open.id != set {
		return false, nil, fmt.Errorf("no set %d", set)
	}
	if s.open.waiting {
		return false, nil, fmt.Errorf("%w: payload 0", ErrNotReady)
	}
	u := s.open
	s.open = nil
	s.log = append(s.log, fmt.Sprintf("commit set %d", set))
	reboot := false
	for _, e := range u.envelopes {
		if bytes.Equal(e, badEnvelope) {
			return false, [][]byte{{0x40}}, errors.New("digest mismatch")
		}
		reboot = reboot || bytes.Equal(e, firmwareEnvelope)
	}
	s.installed["new"] = TC{ID: ComponentID{[]byte("new")}, SequenceNumber: 1}
	reports := make([][]byte, len(u.envelopes))
	for i := range reports {
		reports[i] = []byte{0x41, 0x01}
	}
	return reboot, reports, nil
}

func (s *memTCs) Cancel(_ context.Context, set uint64) error {
	s.log = append(s.log, fmt.Sprintf("cancel set %d", set))
	if s.open != nil && s.open.id == set {
		s.open = nil
	}
	return nil
}

// rig is an Agent with its clock, TA store and a TAM key.
type rig struct {
	agent  *Agent
	tcs    *memTCs
	now    time.Time
	tam    *suit.SigningKey
	agtKey *suit.Key
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{tcs: newMemTCs(), now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), tam: signingKey(t, AlgESP256)}
	agentKey := signingKey(t, AlgESP256)
	r.agtKey = publicKey(t, agentKey)
	a, err := NewAgent(AgentConfig{Key: agentKey, TAMKeys: []*suit.Key{publicKey(t, r.tam)},
		Attester: nonceAttester{}, TCs: r.tcs, Now: func() time.Time { return r.now }, Lifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	r.agent = a
	return r
}

// send signs m as the TAM in n, hands it to the Agent and opens the
// answer with the Agent's key.
func (r *rig) send(t *testing.T, m Message, n Numbering) Message {
	t.Helper()
	data, err := Sign(m, n, r.tam)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := r.agent.Handle(context.Background(), data)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if ans.Payloads != nil {
		t.Fatalf("the set waits for payloads %+v", ans.Payloads)
	}
	return r.open(t, ans, n)
}

// open opens the Agent's answer with its key, in n.
func (r *rig) open(t *testing.T, ans Answer, n Numbering) Message {
	t.Helper()
	if ans.Message == nil {
		return nil
	}
	s, err := OpenAs(ans.Message, []*suit.Key{r.agtKey}, n)
	if err != nil {
		t.Fatalf("the answer does not open in %s: %v", n, err)
	}
	kid, _ := Thumbprint(r.agtKey.Public)
	if !bytes.Equal(s.KID, kid) {
		t.Fatalf("answer kid %x", s.KID)
	}
	return s.Message
}

func tokenN(i byte) []byte     { return bytes.Repeat([]byte{i}, 16) }
func challengeN(i byte) []byte { return bytes.Repeat([]byte{0xc0 | i}, 32) }

func query(tok, chal []byte) *QueryRequest {
	return &QueryRequest{Token: tok, Challenge: chal, Versions: []uint64{0},
		CipherSuites: []CipherSuite{SuiteEd25519, SuiteESP256}, SUITCOSEProfiles: []SUITCOSEProfile{ProfileESP256A128CTR},
		DataItems: DataAttestation | DataTrustedComponents}
}

func wantError(t *testing.T, m Message, code ErrCode) *Error {
	t.Helper()
	e, ok := m.(*Error)
	if !ok || e.Code != code {
		t.Fatalf("answer %+v, want an Error %s", m, code)
	}
	return e
}

// TestAgentSession: a QueryRequest gets the TCs, their sequence numbers
// and evidence bound to the challenge; the Update that follows unlinks,
// then installs its manifests as one set, and gets Success with the SUIT
// reports (the unlink's, then one per manifest); in the numbering it was
// asked in.
func TestAgentSession(t *testing.T) {
	t.Parallel()
	for _, n := range []Numbering{Draft26, Legacy} {
		t.Run(n.String(), func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.tcs.wanted = []RequestedTC{{ComponentID: ComponentID{[]byte("wanted")}}}
			resp, ok := r.send(t, query(tokenN(1), challengeN(1)), n).(*QueryResponse)
			if !ok {
				t.Fatalf("answer %T", resp)
			}
			if !bytes.Equal(resp.Token, tokenN(1)) || !bytes.Equal(resp.AttestationPayload, append([]byte("evidence:"), challengeN(1)...)) {
				t.Fatalf("response %+v", resp)
			}
			if resp.SelectedVersion == nil || *resp.SelectedVersion != 0 || !reflect.DeepEqual(resp.RequestedTCList, r.tcs.wanted) {
				t.Fatalf("response %+v", resp)
			}
			var claims map[int64]cbor.RawMessage
			if len(resp.TCList) != 1 || cbor.Unmarshal(resp.TCList[0], &claims) != nil ||
				!bytes.Equal(claims[ClaimSequenceNumber], []byte{0x04}) {
				t.Fatalf("tc-list %x", resp.TCList)
			}
			up := &Update{Token: tokenN(1), UnneededManifests: []ComponentID{{[]byte("old")}},
				Manifests: []Manifest{{Envelope: envelope}, {Envelope: envelope, Tagged: true}}}
			ok2, isSuccess := r.send(t, up, n).(*Success)
			if !isSuccess || !bytes.Equal(ok2.Token, tokenN(1)) || len(ok2.SUITReports) != 3 {
				t.Fatalf("answer %+v", ok2)
			}
			if want := []string{"unlink old", "start set 1 of 2", "commit set 1"}; !reflect.DeepEqual(r.tcs.log, want) {
				t.Fatalf("operations %q, want %q", r.tcs.log, want)
			}
		})
	}
}

// TestAgentRefuses: invalid or replayed messages get an Error with the
// code that fits and change nothing.
func TestAgentRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, r *rig) // messages before the one tested
		msg   Message
		code  ErrCode
	}{
		{"no cipher suite in common", nil,
			&QueryRequest{Token: tokenN(1), CipherSuites: []CipherSuite{SuiteEd25519}, SUITCOSEProfiles: []SUITCOSEProfile{}, DataItems: 2},
			ErrUnsupportedCipherSuites},
		{"unsupported version", nil,
			&QueryRequest{Token: tokenN(1), Versions: []uint64{1}, CipherSuites: []CipherSuite{SuiteESP256}, SUITCOSEProfiles: []SUITCOSEProfile{}, DataItems: 2},
			ErrUnsupportedMsgVersion},
		{"timestamp freshness only", nil,
			&QueryRequest{Token: tokenN(1), FreshnessMechanisms: []uint64{1}, CipherSuites: []CipherSuite{SuiteESP256}, SUITCOSEProfiles: []SUITCOSEProfile{}, DataItems: 1},
			ErrUnsupportedFreshnessMechanisms},
		{"replayed QueryRequest", func(t *testing.T, r *rig) { r.send(t, query(tokenN(1), challengeN(1)), Draft26) },
			query(tokenN(1), challengeN(1)), ErrPermanentError},
		{"challenge reused with a new token", func(t *testing.T, r *rig) { r.send(t, query(tokenN(1), challengeN(1)), Draft26) },
			query(tokenN(2), challengeN(1)), ErrPermanentError},
		{"Update with a token never issued", nil,
			&Update{Token: tokenN(9), Manifests: []Manifest{{Envelope: envelope}}}, ErrPermanentError},
		{"Update without a token", nil,
			&Update{Manifests: []Manifest{{Envelope: envelope}}}, ErrPermanentError},
		{"replayed Update", func(t *testing.T, r *rig) {
			r.send(t, query(tokenN(1), challengeN(1)), Draft26)
			r.send(t, &Update{Token: tokenN(1), Manifests: []Manifest{{Envelope: envelope}}}, Draft26)
			r.tcs.log = nil
		}, &Update{Token: tokenN(1), Manifests: []Manifest{{Envelope: envelope}}}, ErrPermanentError},
		{"Update after the token expired", func(t *testing.T, r *rig) {
			r.send(t, query(tokenN(1), challengeN(1)), Draft26)
			r.now = r.now.Add(time.Minute)
		}, &Update{Token: tokenN(1), Manifests: []Manifest{{Envelope: envelope}}}, ErrPermanentError},
		{"set that fails", func(t *testing.T, r *rig) { r.send(t, query(tokenN(1), challengeN(1)), Draft26); r.tcs.log = nil },
			&Update{Token: tokenN(1), Manifests: []Manifest{{Envelope: envelope}, {Envelope: badEnvelope}}}, ErrManifestProcessingFailed},
		{"a QueryResponse sent to the Agent", nil, &QueryResponse{Token: tokenN(1)}, ErrPermanentError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			if tt.setup != nil {
				tt.setup(t, r)
			}
			before, _ := r.tcs.Installed()
			e := wantError(t, r.send(t, tt.msg, Draft26), tt.code)
			if e.ErrMsg == "" {
				t.Error("no err-msg")
			}
			after, _ := r.tcs.Installed()
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("TCs changed: %v -> %v", before, after)
			}
			if tt.code == ErrManifestProcessingFailed {
				if len(e.SUITReports) == 0 || !reflect.DeepEqual(r.tcs.log, []string{"start set 1 of 2", "commit set 1", "cancel set 1"}) {
					t.Fatalf("reports %x, operations %q", e.SUITReports, r.tcs.log)
				}
			} else if len(r.tcs.log) != 0 {
				t.Fatalf("operations %q", r.tcs.log)
			}
		})
	}
}

// TestAgentUnauthenticated: what no trusted TAM key verifies gets no
// answer and changes nothing; an Update captured for one Agent does not
// work on another.
func TestAgentUnauthenticated(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	stranger := signingKey(t, AlgESP256)
	data, err := Sign(query(tokenN(1), challengeN(1)), Draft26, stranger)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := r.agent.Handle(context.Background(), data); out.Message != nil || !errors.Is(err, ErrSignature) {
		t.Fatalf("stranger's query: %+v %v", out, err)
	}
	if out, err := r.agent.Handle(context.Background(), []byte{0x00}); out.Message != nil || err == nil {
		t.Fatalf("garbage: %+v %v", out, err)
	}

	// Device A runs a session; its Update, captured, goes to device B
	// (same TAM): B never issued that token.
	a, b := newRig(t), newRig(t)
	b.tam, b.agent.cfg.TAMKeys = a.tam, a.agent.cfg.TAMKeys
	a.send(t, query(tokenN(1), challengeN(1)), Draft26)
	update, err := Sign(&Update{Token: tokenN(1), Manifests: []Manifest{{Envelope: envelope}}}, Draft26, a.tam)
	if err != nil {
		t.Fatal(err)
	}
	out, err := b.agent.Handle(context.Background(), update)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(out.Message, []*suit.Key{b.agtKey}, Draft26)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, s.Message, ErrPermanentError)
	if len(b.tcs.log) != 0 {
		t.Fatalf("device B ran %q", b.tcs.log)
	}
}

// TestAgentSessionsBounded: sessions past MaxAgentSessions wait for one to
// expire.
func TestAgentSessionsBounded(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	for i := range MaxAgentSessions {
		if _, ok := r.send(t, query(tokenN(byte(i+1)), nil), Draft26).(*QueryResponse); !ok {
			t.Fatalf("session %d refused", i)
		}
	}
	wantError(t, r.send(t, query(tokenN(100), nil), Draft26), ErrTemporaryError)
	r.now = r.now.Add(time.Minute)
	if _, ok := r.send(t, query(tokenN(100), nil), Draft26).(*QueryResponse); !ok {
		t.Fatal("refused after the others expired")
	}
}

// FuzzAgent: no input panics the Agent, only trusted messages get an
// answer, and an install set that waits for payloads is continued or
// cancelled, never left open. The Agent has answered a QueryRequest
// (token 1) before the fuzzed message, so that a signed Update reaches
// the install set.
func FuzzAgent(f *testing.F) {
	tam := signingKey(f, AlgESP256)
	sign := func(m Message) []byte {
		data, err := Sign(m, Draft26, tam)
		if err != nil {
			f.Fatal(err)
		}
		return data
	}
	first := sign(query(tokenN(1), challengeN(1)))
	for _, m := range []Message{
		query(tokenN(2), challengeN(2)),
		&Update{Token: tokenN(1), Manifests: []Manifest{{Envelope: envelope}}},
		&Update{Token: tokenN(1), UnneededManifests: []ComponentID{{[]byte("old")}}, Manifests: []Manifest{{Envelope: fetchEnvelope}, {Envelope: badEnvelope}}},
		&Update{Token: tokenN(1), Manifests: []Manifest{{Envelope: firmwareEnvelope}}},
		&Error{Token: tokenN(1), Code: ErrTemporaryError},
	} {
		f.Add(sign(m))
	}
	agentKey := signingKey(f, AlgEd25519)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		tcs := newMemTCs()
		a, err := NewAgent(AgentConfig{Key: agentKey, TAMKeys: []*suit.Key{publicKey(t, tam)}, Attester: nonceAttester{},
			TCs: tcs, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Handle(ctx, first); err != nil {
			t.Fatal(err)
		}
		out, err := a.Handle(ctx, data)
		if (out.Message != nil || out.Payloads != nil) && err != nil {
			t.Fatalf("an answer and an error: %v", err)
		}
		if out.Message != nil && out.Payloads != nil {
			t.Fatal("a message and payloads at once")
		}
		if out.Payloads != nil {
			tcs.write()
			if out, err = a.Continue(ctx); err != nil || out.Message == nil {
				t.Fatalf("continue: %+v %v", out, err)
			}
		}
		if tcs.open != nil {
			t.Fatalf("set %d left open", tcs.open.id)
		}
		if _, err := a.Continue(ctx); !errors.Is(err, ErrNothingPending) {
			t.Fatalf("a second continue: %v", err)
		}
	})
}
