package evidence_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/evidence"
	"github.com/teeup/teeup/secure/fwu/fwutest"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/reference"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/tpm"
	"github.com/teeup/teeup/secure/tpm/tpmtest"
	"github.com/teeup/teeup/secure/world"
)

// pcr is the measurement PCR in the simulated TPM.
type pcr struct{ t *tpm.TPM }

func (p pcr) Extend(d []byte) error { return p.t.Extend(boot.MeasurementPCR, d) }

type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

// rig is a device whose measurements and quotes are a simulated TPM's
// (flash, counters and sealing are fwutest's in-memory parts): the factory
// images at sequence 1, powered on once.
type rig struct {
	sim      *tpmtest.Sim
	hw       world.Hardware
	platform world.Platform
	signers  *fwutest.Signers
	keys     *keys.Device
	envs     [][]byte
	sw       *world.Secure
}

func newRig(t *testing.T) *rig {
	t.Helper()
	sim := tpmtest.Open(t)
	l := fwutest.SmallLayout
	r := &rig{sim: sim, signers: fwutest.NewSigners(t),
		platform: world.Platform{Layout: l, VendorID: fwutest.VendorID, ClassID: fwutest.ClassID, HWVersion: "test-1"}}
	r.hw = world.Hardware{Flash: fwutest.NewFlash(l), Counters: &fwutest.Counters{}, PCR: pcr{sim.TPM},
		Sealer: &fwutest.Sealer{}, StoreCounter: &fwutest.StoreCounter{}, Attester: sim.TPM}
	var err error
	if r.keys, err = keys.NewDevice(seeded{rand.NewChaCha8([32]byte{7})}); err != nil {
		t.Fatal(err)
	}
	st, err := storage.Format(r.hw.Flash, world.StoreRegion(l), r.hw.Sealer, r.hw.StoreCounter, r.keys, r.signers.Policy(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := world.New(r.hw, r.platform, st)
	if err != nil {
		t.Fatal(err)
	}
	var set []boot.Staged
	for _, c := range boot.Components {
		s := r.signers.Release(t, c, 1, fwutest.BuiltinImage(c, 1, l.MaxImage()/2))
		set, r.envs = append(set, s), append(r.envs, s.Envelope)
	}
	if err := sw.Boot.Provision(context.Background(), set); err != nil {
		t.Fatal(err)
	}
	if r.sw, err = world.Assemble(r.hw, r.platform); err != nil {
		t.Fatal(err)
	}
	if _, err := r.sw.Boot.Boot(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) source(t *testing.T) *evidence.Source {
	t.Helper()
	src, err := r.sw.Evidence()
	if err != nil || src == nil {
		t.Fatalf("evidence source: %v", err)
	}
	return src
}

// TestEvidence: the secure world's evidence for a nonce is its EAT signed
// by the device's attestation key, claiming the booted images as the
// reference values of their envelopes describe them, the boot count of
// the TPM, the device's ueid and class; a quote by the TPM's attestation
// key over the measurement PCR whose extraData is the EAT's payload
// digest; and the event log, which replays to the quoted PCR.
func TestEvidence(t *testing.T) {
	r := newRig(t)
	nonce := []byte("a verifier's fresh nonce")
	b, err := r.source(t).Evidence(nonce)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := attest.DecodeEvidence(b)
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.VerifyEAT(ev.EAT, &r.keys.Attestation.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	c := v.Claims
	ueid, _ := evidence.UEID(&r.keys.Attestation.PublicKey)
	resets, _ := r.sim.ResetCount()
	if !bytes.Equal(c.Nonce, nonce) || !bytes.Equal(c.UEID, ueid) || !bytes.Equal(c.OEMID, fwutest.VendorID) ||
		!bytes.Equal(c.HWModel, fwutest.ClassID) || c.HWVersion != "test-1" || c.BootCount != uint64(resets) || c.Debug != evidence.Debug {
		t.Fatalf("claims %+v", c)
	}
	// Each booted image is claimed as its author's reference says.
	keys := r.signers.Policy(t).Keys()
	for _, env := range r.envs {
		refs, class, err := reference.Reference(env, keys)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(class.OEMID, fwutest.VendorID) || !bytes.Equal(class.HWModel, fwutest.ClassID) {
			t.Fatalf("class %+v", class)
		}
		for _, ref := range refs {
			got, ok := c.Component(ref.Component)
			if !ok {
				t.Fatalf("no claim for %s in %+v", ref.Component, c.Components)
			}
			if got.Kind.String() != ref.Kind || got.Sequence != ref.SequenceNumber || !bytes.Equal(got.Digest, ref.Digest) ||
				!bytes.Equal(got.ManifestDigest, ref.ManifestDigest) || !bytes.Equal(got.Signer, ref.Signers[0]) {
				t.Fatalf("claim %+v, reference %+v", got, ref)
			}
		}
	}
	if len(c.Components) != 2 {
		t.Fatalf("%d components claimed, want the two images", len(c.Components))
	}
	// The quote: by the TPM's attestation key, over the EAT, over the
	// PCR the log replays to.
	ak, err := r.sim.AttestationKey()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(ev.Quote.Attest)
	if !ecdsa.VerifyASN1(ak, sum[:], ev.Quote.Signature) {
		t.Fatal("the quote is not signed by the TPM's attestation key")
	}
	q, err := tpm2.Unmarshal[tpm2.TPMSAttest](ev.Quote.Attest)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(q.ExtraData.Buffer, v.PayloadHash) {
		t.Fatal("the quote does not carry the EAT's payload digest")
	}
	if q.ClockInfo.ResetCount != uint32(c.BootCount) {
		t.Fatalf("boot count %d, the quote's reset count %d", c.BootCount, q.ClockInfo.ResetCount)
	}
	info, err := q.Attested.Quote()
	if err != nil {
		t.Fatal(err)
	}
	replay := ev.EventLog.Replay(boot.MeasurementPCR)
	if want := sha256.Sum256(replay); !bytes.Equal(info.PCRDigest.Buffer, want[:]) {
		t.Fatal("the event log does not replay to the quoted PCR")
	}
	for _, e := range ev.EventLog {
		if _, ok := c.Component(e.Component); !ok {
			t.Fatalf("the event log names %s, which the claims do not", e.Component)
		}
	}
}

// TestEvidenceNonce: a nonce shorter than 8 or longer than 64 bytes is
// refused with ErrNonce, and nothing is signed or quoted.
func TestEvidenceNonce(t *testing.T) {
	r := newRig(t)
	src := r.source(t)
	for _, n := range []int{0, 7, 65} {
		if _, err := src.Evidence(make([]byte, n)); !errors.Is(err, evidence.ErrNonce) {
			t.Errorf("a nonce of %d bytes: %v, want ErrNonce", n, err)
		}
	}
	for _, n := range []int{8, 64} {
		if _, err := src.Evidence(make([]byte, n)); err != nil {
			t.Errorf("a nonce of %d bytes: %v", n, err)
		}
	}
}
