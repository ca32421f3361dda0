package teep

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/teeup/teeup/secure/suit"
)

// Attester gives attestation evidence bound to a nonce: the Agent passes
// the QueryRequest's challenge (or, when the TAM sent none, its token).
// The secure world implements it with the device's attestation key.
type Attester interface {
	Evidence(nonce []byte) (format string, evidence []byte, err error)
}

// TC is a trusted component installed on the device.
type TC struct {
	ID             ComponentID
	SequenceNumber uint64
	// Digest is the encoded SUIT_Digest of its image, nil when unknown.
	Digest []byte
}

// TrustedComponents is the secure world's TA store and update service as
// the Agent uses it. An Update's install set runs in two steps, because
// its payloads come from the normal world: Start plans it and says which
// payloads it waits for; once the normal world has written them, Commit
// installs it.
type TrustedComponents interface {
	// Installed lists the installed TCs.
	Installed() ([]TC, error)
	// Wanted lists the TCs the device asks for (requested-tc-list).
	Wanted() ([]RequestedTC, error)
	// Unlink removes the TCs ids, and returns a SUIT report for each it
	// has one for.
	Unlink(ctx context.Context, ids []ComponentID) (reports [][]byte, err error)
	// Start starts envelopes as one install set of their own and returns
	// its handle and the payloads it waits for. On error no set remains,
	// and the SUIT reports say what became of the manifests processed.
	// An error wrapping ErrBusy means another install set is in progress.
	Start(ctx context.Context, envelopes [][]byte) (InstallSet, [][]byte, error)
	// Commit installs set: every manifest is installed or, on error, none
	// is and the old TCs stay. It returns the SUIT reports of the set's
	// manifests, also on error, and whether the set staged firmware,
	// which applies at the next reset. An error wrapping ErrNotReady
	// leaves the set as it was: its payloads are not all written yet.
	Commit(ctx context.Context, set uint64) (reboot bool, reports [][]byte, err error)
	// Cancel abandons set before it is committed.
	Cancel(ctx context.Context, set uint64) error
}

// InstallSet is an install set started: its handle, and the payloads the
// normal world must write into it before the Agent commits it.
type InstallSet struct {
	Set      uint64
	Payloads []Payload
}

// Payload asks the normal world to fetch URI and write its Size bytes
// into the install set under Index.
type Payload struct {
	Index     uint32
	Component ComponentID
	URI       string
	Size      uint64
}

// ClaimSequenceNumber is the key of an installed TC's manifest sequence
// number in its tc-list entry (system-property-claims). SUIT defines no
// parameter for it, so this is a custom SUIT parameter (SUIT keeps
// negative labels for custom ones); a TAM that does not know it ignores
// it. Keys 0 (system-component-id) and 3 (image digest) are SUIT's.
const ClaimSequenceNumber = -257

// AgentConfig is what an Agent needs; Now and Lifetime have defaults.
type AgentConfig struct {
	Key      *suit.SigningKey // signs the Agent's messages: ESP256 or Ed25519
	TAMKeys  []*suit.Key      // the TAMs the Agent trusts
	Attester Attester
	TCs      TrustedComponents
	Now      func() time.Time // the clock; time.Now when nil
	// Lifetime is how long a QueryRequest's token stays good for the
	// Update, and how long a challenge is remembered.
	Lifetime time.Duration
	// Numbering answers what cannot be read (its numbering unknown).
	Numbering Numbering
}

// Agent is the TEEP Agent's state machine: pure, one signed message in,
// one answer out; what it reads and writes of the device goes through
// Attester and TrustedComponents. It is safe for concurrent use.
type Agent struct {
	cfg   AgentConfig
	suite CipherSuite

	mu         sync.Mutex
	sessions   map[string]*session  // by token
	challenges map[string]time.Time // seen challenges, until when remembered
	pending    *pending             // the Update whose install set waits for payloads
}

// session is one QueryRequest's token, good for one Update.
type session struct {
	expires time.Time
	used    bool
}

// ErrAgentConfig: an AgentConfig that misses a part.
var ErrAgentConfig = errors.New("teep: agent configuration")

// NewAgent makes an Agent.
func NewAgent(cfg AgentConfig) (*Agent, error) {
	if cfg.Key == nil || cfg.Attester == nil || cfg.TCs == nil || len(cfg.TAMKeys) == 0 {
		return nil, fmt.Errorf("%w: key, attester, TCs and TAM keys are required", ErrAgentConfig)
	}
	suite := CipherSuite{Ops: []Operation{{COSESign1, cfg.Key.Alg}}}
	if cfg.Key.Alg != AlgESP256 && cfg.Key.Alg != AlgEd25519 {
		return nil, fmt.Errorf("%w: %w: %s", ErrAgentConfig, ErrAlgorithm, suit.AlgName(cfg.Key.Alg))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultSessionLifetime * time.Second
	}
	return &Agent{cfg: cfg, suite: suite, sessions: map[string]*session{}, challenges: map[string]time.Time{}}, nil
}

// Answer is what the Agent gives back for a message or a continue.
type Answer struct {
	// Message is the signed message for the TAM; nil when there is none:
	// the install set waits for Payloads, or the TAM's Error ended the
	// session.
	Message []byte
	// Set and Payloads: the Update's install set Set waits for these
	// payloads; once the normal world has written them, Continue.
	Set      uint64
	Payloads []Payload
	// Reboot: the install set committed staged firmware, which applies
	// at the next reset.
	Reboot bool
}

// Handle processes one message from a TAM and returns the Agent's
// answer: a signed message in the numbering the message was in, or the
// payloads an Update's install set waits for (then Continue). A message
// that no trusted TAM key verifies gets no answer (the error says why):
// answering an unauthenticated sender tells it nothing it may know. Every
// verified message gets an answer, an Error with the code that fits when
// it is invalid; an Error from the TAM ends the session and gets none.
func (a *Agent) Handle(ctx context.Context, data []byte) (Answer, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expire(ctx)
	s, err := Open(data, a.cfg.TAMKeys, a.cfg.Numbering)
	switch {
	case errors.Is(err, ErrAlgorithm):
		// The TAM signs with an algorithm this Agent does not take:
		// say which it does (this carries nothing secret).
		return a.sign(&Error{Code: ErrUnsupportedCipherSuites, CipherSuites: []CipherSuite{a.suite},
			ErrMsg: "unsupported signature algorithm"}, a.cfg.Numbering)
	case errors.Is(err, ErrSignature), errors.Is(err, ErrLimit):
		return Answer{}, err
	case err != nil:
		if !verifies(data, a.cfg.TAMKeys) {
			return Answer{}, err
		}
		return a.sign(&Error{Code: ErrPermanentError, ErrMsg: errMsg(err)}, a.cfg.Numbering)
	}
	switch m := s.Message.(type) {
	case *QueryRequest:
		return a.sign(a.queryRequest(m), s.Numbering)
	case *Update:
		return a.update(ctx, m, s.Numbering)
	case *Error:
		if m.Token != nil {
			delete(a.sessions, string(m.Token))
			if a.pending != nil && string(a.pending.token) == string(m.Token) {
				a.cancelPending(ctx)
			}
		}
		return Answer{}, nil
	default:
		return a.sign(&Error{Code: ErrPermanentError, ErrMsg: "unexpected " + m.Type().String()}, s.Numbering)
	}
}

// verifies reports whether a COSE_Sign1 verifies with keys, whatever its
// payload: a message whose payload is malformed is answered only when it
// comes from a trusted TAM.
func verifies(data []byte, keys []*suit.Key) bool {
	_, err := suit.OpenSign1(data, keys, AcceptedAlgs...)
	return err == nil
}

func (a *Agent) sign(m Message, n Numbering) (Answer, error) {
	b, err := Sign(m, n, a.cfg.Key)
	if err != nil {
		return Answer{}, err
	}
	return Answer{Message: b}, nil
}

// expire forgets the sessions and challenges whose time is over, and
// cancels an install set left waiting for its payloads past its time.
func (a *Agent) expire(ctx context.Context) {
	now := a.cfg.Now()
	if a.pending != nil && !now.Before(a.pending.expires) {
		a.cancelPending(ctx)
	}
	for t, s := range a.sessions {
		if !now.Before(s.expires) {
			delete(a.sessions, t)
		}
	}
	for c, until := range a.challenges {
		if !now.Before(until) {
			delete(a.challenges, c)
		}
	}
}

func (a *Agent) queryRequest(m *QueryRequest) Message {
	fail := func(code ErrCode, msg string) *Error { return &Error{Token: m.Token, Code: code, ErrMsg: clip(msg)} }
	if !a.takesSuite(m.CipherSuites) {
		e := fail(ErrUnsupportedCipherSuites, "no cipher suite in common")
		e.CipherSuites = []CipherSuite{a.suite}
		return e
	}
	if m.Versions != nil && !contains(m.Versions, 0) {
		e := fail(ErrUnsupportedMsgVersion, "only version 0")
		e.Versions = []uint64{0}
		return e
	}
	if m.FreshnessMechanisms != nil && !contains(m.FreshnessMechanisms, freshnessNonce) {
		e := fail(ErrUnsupportedFreshnessMechanisms, "only nonce freshness")
		e.FreshnessMechanisms = []uint64{freshnessNonce}
		return e
	}
	if m.Token != nil {
		if _, seen := a.sessions[string(m.Token)]; seen {
			return fail(ErrPermanentError, "token reused")
		}
		if len(a.sessions) >= MaxAgentSessions {
			return fail(ErrTemporaryError, "too many sessions")
		}
	}
	if m.Challenge != nil {
		if _, seen := a.challenges[string(m.Challenge)]; seen {
			return fail(ErrPermanentError, "challenge reused")
		}
		if len(a.challenges) >= MaxSeenChallenges {
			return fail(ErrTemporaryError, "too many challenges")
		}
	}
	r := &QueryResponse{Token: m.Token}
	if m.Versions != nil {
		r.SelectedVersion = new(uint64)
	}
	if m.DataItems&DataAttestation != 0 {
		nonce := m.Challenge
		if nonce == nil {
			nonce = m.Token
		}
		if nonce == nil {
			return fail(ErrPermanentError, "attestation requested without a challenge")
		}
		format, evidence, err := a.cfg.Attester.Evidence(nonce)
		if err != nil {
			return fail(ErrTemporaryError, "attestation: "+err.Error())
		}
		r.AttestationPayloadFormat, r.AttestationPayload = format, evidence
	}
	if m.DataItems&DataTrustedComponents != 0 {
		list, err := a.tcList()
		if err != nil {
			return fail(ErrTemporaryError, "listing TCs: "+err.Error())
		}
		r.TCList = list
		wanted, err := a.cfg.TCs.Wanted()
		if err != nil {
			return fail(ErrTemporaryError, "listing wanted TCs: "+err.Error())
		}
		if len(wanted) > 0 {
			r.RequestedTCList = wanted
		}
	}
	// The request is answered: its token and challenge are now spent.
	now := a.cfg.Now()
	if m.Challenge != nil {
		a.challenges[string(m.Challenge)] = now.Add(a.cfg.Lifetime)
	}
	if m.Token != nil {
		a.sessions[string(m.Token)] = &session{expires: now.Add(a.cfg.Lifetime)}
	}
	return r
}

const freshnessNonce = 0

func (a *Agent) takesSuite(suites []CipherSuite) bool {
	for _, s := range suites {
		if alg, ok := s.SignAlg(); ok && alg == a.cfg.Key.Alg {
			return true
		}
	}
	return false
}

func contains(list []uint64, v uint64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// tcList is the tc-list: one system-property-claims map per installed TC.
func (a *Agent) tcList() ([]cbor.RawMessage, error) {
	tcs, err := a.cfg.TCs.Installed()
	if err != nil {
		return nil, err
	}
	if len(tcs) > MaxTCs {
		return nil, wrapf(ErrLimit, "%d TCs installed", len(tcs))
	}
	list := make([]cbor.RawMessage, 0, len(tcs))
	for _, tc := range tcs {
		claims := map[int64]any{0: tc.ID, ClaimSequenceNumber: tc.SequenceNumber}
		if tc.Digest != nil {
			claims[3] = tc.Digest // bstr .cbor SUIT_Digest
		}
		b, err := encMode.Marshal(claims)
		if err != nil {
			return nil, err
		}
		list = append(list, b)
	}
	return list, nil
}

func nonEmpty(reports [][]byte) [][]byte {
	if len(reports) == 0 {
		return nil
	}
	if len(reports) > MaxSUITReports {
		reports = reports[:MaxSUITReports]
	}
	return reports
}

// errMsg fits an error's text into err-msg.
func errMsg(err error) string { return clip(err.Error()) }

// clip fits s into err-msg (at most 128 bytes, whole runes).
func clip(s string) string {
	for len(s) > MaxMsgSize {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
