package teepsrv_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
	"github.com/teeup/teeup/tam/teepsrv"
)

// clock is a settable clock shared by the TAM and the agents of a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// seeded is deterministic randomness for tokens and challenges.
func seeded(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	return &lockedReader{r: mrand.NewChaCha8(s)}
}

type lockedReader struct {
	mu sync.Mutex
	r  *mrand.ChaCha8
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// tam is a TAM under test: its server, its store, its key, its clock.
type tam struct {
	srv   *teepsrv.Server
	store store.Store
	path  string // the store's file
	// openStore opens the store again on restart; nil is SQLite on path.
	openStore func(context.Context) (store.Store, error)
	key       *ecdsa.PrivateKey
	pub       *suit.Key
	clock     *clock
	cfg       teepsrv.Config
}

func newTAM(t testing.TB, n teep.Numbering) *tam {
	t.Helper()
	return newTAMOn(t, n, nil)
}

// newTAMOn is newTAM on the store open opens (nil: SQLite in a temporary
// file).
func newTAMOn(t testing.TB, n teep.Numbering, open func(context.Context) (store.Store, error)) *tam {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := suit.NewPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	tm := &tam{path: filepath.Join(t.TempDir(), "tam.db"), openStore: open, key: key, pub: pub, clock: newClock()}
	tm.cfg = teepsrv.Config{Key: key, Numbering: n, Now: tm.clock.Now, Rand: seeded(1)}
	t.Cleanup(func() {
		if err := tm.store.Close(); err != nil {
			t.Error(err)
		}
	})
	tm.restart(t)
	return tm
}

// restart stops the TAM (its server, its store closed) and starts it
// again on the same file, as a TAM process that stopped and started.
func (tm *tam) restart(t testing.TB) {
	t.Helper()
	if tm.store != nil {
		tm.srv.Close()
		if err := tm.store.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var st store.Store
	var err error
	if tm.openStore != nil {
		st, err = tm.openStore(context.Background())
	} else {
		st, err = sqlite.Open(context.Background(), tm.path)
	}
	if err != nil {
		t.Fatal(err)
	}
	tm.store, tm.cfg.Store = st, st
	srv, err := teepsrv.New(tm.cfg)
	if err != nil {
		t.Fatal(err)
	}
	tm.srv = srv
}

// handle is Handle, failing the test on a fault (an error that is not a
// refusal).
func (tm *tam) handle(t testing.TB, body []byte) ([]byte, error) {
	t.Helper()
	answer, err := tm.srv.Handle(context.Background(), body)
	if err != nil && !isRefusal(err) {
		t.Fatalf("TAM fault: %v", err)
	}
	return answer, err
}

func isRefusal(err error) bool { return errors.Is(err, teepsrv.ErrRefused) }

// open verifies and decodes a message of the TAM.
func (tm *tam) open(t testing.TB, msg []byte) teep.Message {
	t.Helper()
	s, err := teep.Open(msg, []*suit.Key{tm.pub}, tm.cfg.Numbering)
	if err != nil {
		t.Fatalf("TAM message: %v", err)
	}
	if s.Numbering != tm.cfg.Numbering {
		t.Fatalf("TAM answered in %s, configured for %s", s.Numbering, tm.cfg.Numbering)
	}
	return s.Message
}

// memTCs is the TA store of an in-process Agent: what it holds, what it
// was given to install, in memory. It installs an envelope only if it
// authenticates with the author's key, as the secure world does.
type memTCs struct {
	mu        sync.Mutex
	authors   []*suit.Key
	installed map[string]teep.TC
	sets      [][][]byte
	pending   map[string]teep.TC // the set started, until it is committed
	fail      error              // Start fails with it, when set
	// unlinkFail: Unlink fails with it, when set, and unlinks nothing.
	unlinkFail error
}

func newMemTCs(authors ...*suit.Key) *memTCs {
	return &memTCs{authors: authors, installed: map[string]teep.TC{}}
}

func (m *memTCs) Installed() ([]teep.TC, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []teep.TC
	for _, tc := range m.installed {
		out = append(out, tc)
	}
	return out, nil
}

func (m *memTCs) Wanted() ([]teep.RequestedTC, error) { return nil, nil }

func (m *memTCs) Unlink(_ context.Context, ids []teep.ComponentID) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.unlinkFail != nil {
		return nil, m.unlinkFail
	}
	for _, id := range ids {
		delete(m.installed, suit.ComponentID(id).String())
	}
	return nil, nil
}

// Start authenticates the set's envelopes, as the secure world does; it
// installs nothing until Commit. Their payloads are integrated: the set
// waits for none.
func (m *memTCs) Start(_ context.Context, envelopes [][]byte) (teep.InstallSet, [][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sets = append(m.sets, envelopes)
	if m.fail != nil {
		return teep.InstallSet{}, nil, m.fail
	}
	add := map[string]teep.TC{}
	for _, raw := range envelopes {
		env, err := suit.ParseEnvelope(raw)
		if err != nil {
			return teep.InstallSet{}, nil, err
		}
		v, err := env.Authenticate(m.authors)
		if err != nil {
			return teep.InstallSet{}, nil, err
		}
		for _, c := range v.Manifest.Components {
			add[c.String()] = teep.TC{ID: teep.ComponentID(c), SequenceNumber: v.Manifest.SequenceNumber}
		}
	}
	m.pending = add
	return teep.InstallSet{Set: uint64(len(m.sets))}, nil, nil
}

// Commit installs the set Start planned.
func (m *memTCs) Commit(context.Context, uint64) (bool, [][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, tc := range m.pending {
		m.installed[k] = tc
	}
	m.pending = nil
	return false, [][]byte{{0xa0}}, nil
}

// Cancel drops the set Start planned.
func (m *memTCs) Cancel(context.Context, uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending = nil
	return nil
}

// attester makes the rig's real evidence (its TPM quote, its EAT) for a
// nonce, as the secure world's Attester does. nonce, when set, replaces
// the nonce asked for (a device that attests for another challenge).
type attester struct {
	rig   *devicetest.Rig
	nonce []byte
}

func (a *attester) Evidence(nonce []byte) (string, []byte, error) {
	if a.nonce != nil {
		nonce = a.nonce
	}
	src, err := a.rig.Dev.Secure.Evidence()
	if err != nil {
		return "", nil, err
	}
	ev, err := src.Evidence(nonce)
	return teepsrv.EvidenceFormat, ev, err
}

// device is an in-process device: an Agent with its own key, the rig's
// evidence, an in-memory TA store; registered at the TAM unless told.
type device struct {
	id    string
	key   *suit.SigningKey
	agent *teep.Agent
	tcs   *memTCs
	att   *attester
}

type deviceOptions struct {
	unregistered bool
	reference    []byte // the registered factory reference, the rig's when nil
}

func (tm *tam) newDevice(t testing.TB, rig *devicetest.Rig, author *suit.Key, o deviceOptions) *device {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := suit.NewSigningKey(teep.AlgESP256, priv)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := teep.Thumbprint(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	d := &device{id: hex.EncodeToString(tp), key: key, tcs: newMemTCs(author), att: &attester{rig: rig}}
	d.agent, err = teep.NewAgent(teep.AgentConfig{Key: key, TAMKeys: []*suit.Key{tm.pub}, Attester: d.att,
		TCs: d.tcs, Now: tm.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if o.unregistered {
		return d
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ref := o.reference
	if ref == nil {
		ref = mustRead(t, rig.FactoryReferenceFile())
	}
	err = tm.store.AddDevice(context.Background(), store.Device{ID: d.id, AgentKey: der,
		Endorsement: mustRead(t, rig.EndorsementFile()), Reference: ref, Registered: tm.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// answer is the device's Agent's answer to a TAM message.
func (d *device) answer(t testing.TB, msg []byte) []byte {
	t.Helper()
	out, err := d.agent.Handle(context.Background(), msg)
	if err != nil {
		t.Fatalf("agent: %v", err)
	}
	return out.Message
}

// session runs one TEEP session between d and the TAM, in process, and
// returns the messages the TAM sent (the QueryRequest first).
func (tm *tam) session(t testing.TB, d *device) [][]byte {
	t.Helper()
	var sent [][]byte
	msg, err := tm.handle(t, nil)
	for msg != nil {
		if err != nil {
			t.Fatalf("TAM refused: %v", err)
		}
		sent = append(sent, msg)
		reply := d.answer(t, msg)
		if reply == nil {
			break
		}
		msg, err = tm.handle(t, reply)
	}
	if err != nil {
		t.Fatalf("TAM refused: %v", err)
	}
	return sent
}

// publisher builds and publishes envelopes signed by one author.
type publisher struct {
	key *suit.SigningKey
	pub *suit.Key
}

func newPublisher(t testing.TB) *publisher {
	t.Helper()
	key, err := suit.GenerateSigningKey(suit.AlgESP256)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.Public()
	if err != nil {
		t.Fatal(err)
	}
	return &publisher{key: key, pub: pub}
}

// publish stores an envelope of kind installing component id at seq, with
// a detached payload, for device (every device when empty).
func (p *publisher) publish(t testing.TB, tm *tam, kind store.EnvelopeKind, id suit.ComponentID, seq uint64, device string) store.Envelope {
	t.Helper()
	e := p.build(t, tm, kind, id, seq, device)
	if err := tm.store.PutEnvelope(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

// build is the envelope publish stores.
func (p *publisher) build(t testing.TB, tm *tam, kind store.EnvelopeKind, id suit.ComponentID, seq uint64, device string) store.Envelope {
	t.Helper()
	payload := []byte(id.String() + " payload")
	sum := sha256.Sum256(payload)
	env, err := author.Build(&author.Manifest{SequenceNumber: seq, VendorID: bytes.Repeat([]byte{0xfa}, 16),
		ClassID: bytes.Repeat([]byte{0x14}, 16), Components: []author.Component{{ID: id, Payload: payload,
			URI: "https://tam.example/payloads/" + hex.EncodeToString(sum[:])}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Sign(p.key); err != nil {
		t.Fatal(err)
	}
	raw := env.Encode()
	digest := sha256.Sum256(raw)
	e := store.Envelope{Digest: digest[:], Kind: kind, Components: []suit.ComponentID{id}, SequenceNumber: seq,
		Author: "author", Device: device, Raw: raw, Payloads: [][]byte{sum[:]}, Published: tm.clock.Now()}
	return e
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post POSTs body to the TEEP endpoint of an HTTP server.
func post(t testing.TB, url, contentType string, body []byte) (*http.Response, []byte) {
	t.Helper()
	rsp, err := http.Post(url+"/tam", contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	b, err := io.ReadAll(rsp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rsp, b
}

// serve serves the TAM's TEEP routes over HTTP for the test.
func (tm *tam) serve(t testing.TB) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tam", func(w http.ResponseWriter, r *http.Request) { tm.srv.ServeTEEP(w, r) })
	mux.HandleFunc("GET /tam/poll", func(w http.ResponseWriter, r *http.Request) { tm.srv.ServePoll(w, r) })
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func readAll(rsp *http.Response) ([]byte, error) {
	defer rsp.Body.Close()
	return io.ReadAll(io.LimitReader(rsp.Body, teepsrv.MaxBody))
}

type errStatus string

func (e errStatus) Error() string { return "TAM answered " + string(e) }
