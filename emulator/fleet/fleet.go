package fleet

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
)

// Evidence is the shared attester: evidence bound to a nonce, made by the
// one emulated device whose secure world the fleet shares. It must be safe
// for concurrent use.
type Evidence func(nonce []byte) (format string, ev []byte, err error)

// Config is a fleet.
type Config struct {
	Devices  int
	TAMKeys  []*suit.Key // the TAM keys the devices trust
	Authors  []*suit.Key // the authors whose envelopes the TA stores install
	Evidence Evidence
	// FailInstall and FailAttest are the shares (0 to 1) of devices, drawn
	// with Seed, whose installs fail and whose evidence is bound to a
	// stale challenge.
	FailInstall, FailAttest float64
	Seed                    uint64
	Now                     func() time.Time
}

// Device is one simulated device. Its ID is its Agent key's thumbprint.
type Device struct {
	ID           string
	AgentKeyPEM  []byte
	FailsInstall bool
	FailsAttest  bool
	peer         Peer
}

// TCs is the device's TA store.
func (d *Device) TCs() *TAStore { return d.peer.TCs }

// Fleet is the simulated devices.
type Fleet struct {
	Devices []*Device
	tamKeys []*suit.Key
}

// ErrConfig is a fleet that cannot be made.
var ErrConfig = errors.New("fleet: bad configuration")

// New makes the fleet: each device with a new P-256 Agent key.
func New(c Config) (*Fleet, error) {
	switch {
	case c.Devices < 1:
		return nil, fmt.Errorf("%w: %d devices", ErrConfig, c.Devices)
	case c.FailInstall < 0 || c.FailInstall > 1 || c.FailAttest < 0 || c.FailAttest > 1:
		return nil, fmt.Errorf("%w: failure shares must be 0 to 1", ErrConfig)
	case len(c.TAMKeys) == 0 || c.Evidence == nil:
		return nil, fmt.Errorf("%w: needs the TAM's key and an evidence source", ErrConfig)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	rnd := mrand.New(mrand.NewPCG(c.Seed, 15)) //nolint:gosec // G404: a seeded draw of which devices fail, repeatable on purpose
	failInstall := pick(rnd, c.Devices, c.FailInstall)
	failAttest := pick(rnd, c.Devices, c.FailAttest)
	f := &Fleet{tamKeys: c.TAMKeys}
	for i := range c.Devices {
		d, err := newDevice(c, failInstall[i], failAttest[i])
		if err != nil {
			return nil, err
		}
		f.Devices = append(f.Devices, d)
	}
	return f, nil
}

// pick marks round(share*n) of n devices, drawn from rnd.
func pick(rnd *mrand.Rand, n int, share float64) []bool {
	out := make([]bool, n)
	for _, i := range rnd.Perm(n)[:int(share*float64(n)+0.5)] {
		out[i] = true
	}
	return out
}

func newDevice(c Config, failInstall, failAttest bool) (*Device, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	key, err := suit.NewSigningKey(teep.AlgESP256, priv)
	if err != nil {
		return nil, err
	}
	pub, err := suit.NewPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	tp, err := teep.Thumbprint(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	d := &Device{ID: hex.EncodeToString(tp), FailsInstall: failInstall, FailsAttest: failAttest,
		AgentKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})}
	tcs := NewTAStore(c.Authors, failInstall, false)
	agent, err := teep.NewAgent(teep.AgentConfig{Key: key, TAMKeys: c.TAMKeys,
		Attester: &attester{ev: c.Evidence, stale: failAttest}, TCs: tcs, Now: c.Now})
	if err != nil {
		return nil, err
	}
	d.peer = Peer{Agent: agent, Pub: pub, TCs: tcs}
	return d, nil
}

// attester is a device's Attester: the shared evidence, or, for a device
// failing attestation, evidence bound to another challenge than the one
// asked (a replay the TAM refuses).
type attester struct {
	ev    Evidence
	stale bool
}

func (a *attester) Evidence(nonce []byte) (string, []byte, error) {
	if a.stale {
		nonce = bytes.Repeat([]byte{0x5a}, len(nonce))
	}
	return a.ev(nonce)
}

// Endorsement is the shared endorsement (JSON) with the device's Agent
// key in agent_key: what the TAM registers it from.
func (d *Device) Endorsement(shared []byte) ([]byte, error) {
	var e map[string]any
	if err := json.Unmarshal(shared, &e); err != nil {
		return nil, fmt.Errorf("fleet: endorsement: %w", err)
	}
	e["agent_key"] = string(d.AgentKeyPEM)
	return json.Marshal(e)
}

// Session runs one TEEP session of d with the TAM at url.
func (f *Fleet) Session(ctx context.Context, hc *http.Client, url string, d *Device) (Outcome, error) {
	return Session(ctx, hc, url, f.tamKeys, d.peer)
}

// Summary counts what a run did.
type Summary struct {
	Devices          int           `json:"devices"`
	Rounds           int           `json:"rounds"`
	Sessions         int           `json:"sessions"`
	SessionErrors    int           `json:"session_errors"`
	Updates          int           `json:"updates"`
	InstallSucceeded int           `json:"installs_succeeded"`
	InstallFailed    int           `json:"installs_failed"`
	Reboots          int           `json:"reboots"`
	InjectedInstall  int           `json:"injected_install_failures"`
	InjectedAttest   int           `json:"injected_attestation_failures"`
	Elapsed          time.Duration `json:"elapsed_ns"`
	LastError        string        `json:"last_error,omitempty"`
}

// Round runs one session of every device, concurrency at a time, and
// adds what they did to sum.
func (f *Fleet) Round(ctx context.Context, hc *http.Client, url string, concurrency int, sum *Summary) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	work := make(chan *Device)
	for range max(concurrency, 1) {
		wg.Go(func() {
			for d := range work {
				out, err := f.Session(ctx, hc, url, d)
				mu.Lock()
				sum.Sessions++
				if err != nil {
					sum.SessionErrors++
					sum.LastError = err.Error()
				}
				sum.Updates += out.Updates
				if out.Success {
					sum.InstallSucceeded++
				}
				if out.Error {
					sum.InstallFailed++
				}
				if out.Rebooted {
					sum.Reboots++
				}
				mu.Unlock()
			}
		})
	}
	for _, d := range f.Devices {
		if ctx.Err() != nil {
			break
		}
		work <- d
	}
	close(work)
	wg.Wait()
	sum.Rounds++
}

// Injected counts the devices given each failure.
func (f *Fleet) Injected(sum *Summary) {
	sum.Devices = len(f.Devices)
	sum.InjectedInstall, sum.InjectedAttest = 0, 0
	for _, d := range f.Devices {
		if d.FailsInstall {
			sum.InjectedInstall++
		}
		if d.FailsAttest {
			sum.InjectedAttest++
		}
	}
}
