package tamtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/emulator/fleet"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/teepsrv"
)

// Evidence is the attestation of one emulated device (a rig with its TPM)
// that light devices share: each answers its own challenge with the rig's
// real evidence, so each appraises like the rig.
type Evidence struct {
	mu          sync.Mutex
	rig         *devicetest.Rig
	Endorsement []byte
	Reference   []byte // the rig's factory reference values
}

// NewEvidence makes the rig whose evidence the devices share. Its TPM
// simulator is one per process: tests that make one do not run in
// parallel.
func NewEvidence(t testing.TB) *Evidence {
	t.Helper()
	rig := devicetest.New(t)
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return &Evidence{rig: rig, Endorsement: read(rig.EndorsementFile()), Reference: read(rig.FactoryReferenceFile())}
}

// evidence is the rig's evidence bound to nonce.
func (e *Evidence) evidence(nonce []byte) (string, []byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	src, err := e.rig.Dev.Secure.Evidence()
	if err != nil {
		return "", nil, err
	}
	ev, err := src.Evidence(nonce)
	return teepsrv.EvidenceFormat, ev, err
}

// attester is a device's Attester: the shared evidence, or, for a device
// that plays untrustworthy, evidence bound to another challenge than the
// one asked (a replay the TAM must refuse).
type attester struct {
	ev    *Evidence
	stale bool
}

func (a *attester) Evidence(nonce []byte) (string, []byte, error) {
	if a.stale {
		nonce = bytes.Repeat([]byte{0x5a}, len(nonce))
	}
	return a.ev.evidence(nonce)
}

// DeviceOptions are the faults a device plays.
type DeviceOptions struct {
	// Untrustworthy devices attest for a stale challenge: their appraisal
	// is contraindicated.
	Untrustworthy bool
	// FailInstall makes every install set fail (the Agent answers Error).
	FailInstall bool
	// RollBack makes a firmware pair's trial boot fail: after the reboot
	// the device runs its old firmware.
	RollBack bool
	// Unregistered devices are not added to the TAM's store.
	Unregistered bool
}

// Device is a light in-process device: a TEEP Agent with its own key, an
// in-memory TA store, the shared evidence. Its ID is its Agent key's
// thumbprint, as at a real TAM. A Device is not safe for concurrent use
// (one device runs one session at a time); different Devices are.
type Device struct {
	ID    string
	Agent *teep.Agent
	TCs   *TAStore
	pub   *suit.Key
	tam   *TAM
	http  *http.Client
}

// NewDevice makes a device that trusts tm's key and installs what
// authors signed, and registers it at tm with ev's endorsement and
// factory reference values.
func (tm *TAM) NewDevice(t testing.TB, ev *Evidence, authors []*suit.Key, o DeviceOptions) *Device {
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
	pub, err := suit.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	d := &Device{ID: hex.EncodeToString(tp), TCs: NewTAStore(authors, o.FailInstall, o.RollBack), pub: pub, tam: tm, http: &http.Client{}}
	d.Agent, err = teep.NewAgent(teep.AgentConfig{Key: key, TAMKeys: []*suit.Key{tm.Pub},
		Attester: &attester{ev: ev, stale: o.Untrustworthy}, TCs: d.TCs, Now: tm.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if o.Unregistered {
		return d
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	err = tm.Store.AddDevice(context.Background(), store.Device{ID: d.ID, AgentKey: der,
		Endorsement: ev.Endorsement, Reference: ev.Reference, Registered: tm.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Outcome is what one session did.
type Outcome = fleet.Outcome

// ErrTAM is a session the TAM refused or failed.
var ErrTAM = fleet.ErrTAM

// Session runs one TEEP session with the TAM over HTTP, as a broker
// does (fleet.Session).
func (d *Device) Session(ctx context.Context) (Outcome, error) { return d.SessionAt(ctx, d.tam) }

// SessionAt is Session with another TAM (a replica on the same store).
func (d *Device) SessionAt(ctx context.Context, tm *TAM) (Outcome, error) {
	return fleet.Session(ctx, d.http, tm.URL, []*suit.Key{tm.Pub}, fleet.Peer{Agent: d.Agent, Pub: d.pub, TCs: d.TCs})
}
