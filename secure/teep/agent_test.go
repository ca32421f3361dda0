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
// or nothing (an envelope equal to badEnvelope fails the set). It records
// the order of the operations.
type memTCs struct {
	installed map[string]TC
	wanted    []RequestedTC
	log       []string
}

var badEnvelope = []byte{0xa1, 0x00, 0x00}

func newMemTCs() *memTCs {
	return &memTCs{installed: map[string]TC{
		"old": {ID: ComponentID{[]byte("old")}, SequenceNumber: 4},
	}}
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

func (s *memTCs) InstallSet(_ context.Context, envelopes [][]byte) ([][]byte, error) {
	s.log = append(s.log, fmt.Sprintf("install set of %d", len(envelopes)))
	for _, e := range envelopes {
		if bytes.Equal(e, badEnvelope) {
			return [][]byte{{0x40}}, errors.New("digest mismatch")
		}
	}
	s.installed["new"] = TC{ID: ComponentID{[]byte("new")}, SequenceNumber: 1}
	return [][]byte{{0x41, 0x01}}, nil
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
	out, err := r.agent.Handle(context.Background(), data)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if out == nil {
		return nil
	}
	s, err := OpenAs(out, []*suit.Key{r.agtKey}, n)
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
// reports; in the numbering it was asked in.
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
			if !isSuccess || !bytes.Equal(ok2.Token, tokenN(1)) || len(ok2.SUITReports) != 2 {
				t.Fatalf("answer %+v", ok2)
			}
			if want := []string{"unlink old", "install set of 2"}; !reflect.DeepEqual(r.tcs.log, want) {
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
				if len(e.SUITReports) == 0 || !reflect.DeepEqual(r.tcs.log, []string{"install set of 2"}) {
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
	if out, err := r.agent.Handle(context.Background(), data); out != nil || !errors.Is(err, ErrSignature) {
		t.Fatalf("stranger's query: %x %v", out, err)
	}
	if out, err := r.agent.Handle(context.Background(), []byte{0x00}); out != nil || err == nil {
		t.Fatalf("garbage: %x %v", out, err)
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
	s, err := Open(out, []*suit.Key{b.agtKey}, Draft26)
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

// FuzzAgent: no input panics the Agent, and only trusted messages get an
// answer.
func FuzzAgent(f *testing.F) {
	tam := signingKey(f, AlgESP256)
	for _, m := range []Message{query(tokenN(1), challengeN(1)), &Update{Token: tokenN(1), Manifests: []Manifest{{Envelope: envelope}}}} {
		data, err := Sign(m, Draft26, tam)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	agentKey := signingKey(f, AlgEd25519)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := NewAgent(AgentConfig{Key: agentKey, TAMKeys: []*suit.Key{publicKey(t, tam)}, Attester: nonceAttester{},
			TCs: newMemTCs(), Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		out, err := a.Handle(context.Background(), data)
		if out != nil && err != nil {
			t.Fatalf("an answer and an error: %v", err)
		}
	})
}
