package attest

import (
	"crypto/ecdsa"
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/google/go-tpm-tools/simulator"
	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/teeup/teeup/attest/eventlog"
)

// simTPM is the reference TPM simulator (go-tpm-tools), driven with
// go-tpm as a device's secure world drives its TPM: the tests of this
// package may not import secure/, so they make their quotes here. The
// simulator is one per process: simulator.Get waits until no other test
// holds it.
type simTPM struct {
	seed int64
	sim  *simulator.Simulator
	tr   transport.TPM
}

// openTPM manufactures a simulated TPM with fixed seeds (the same
// attestation key every run), closed when the test ends.
func openTPM(t testing.TB, seed int64) *simTPM {
	t.Helper()
	s := &simTPM{seed: seed}
	s.open(t)
	t.Cleanup(func() { s.sim.Close() })
	return s
}

func (s *simTPM) open(t testing.TB) {
	t.Helper()
	sim, err := simulator.GetWithFixedSeedInsecure(s.seed)
	if err != nil {
		t.Fatalf("TPM simulator: %v", err)
	}
	s.sim, s.tr = sim, transport.FromReadWriter(sim)
}

// akTemplate is the restricted ECDSA P-256 attestation key that
// provisioning creates in the endorsement hierarchy.
var akTemplate = tpm2.TPMTPublic{
	Type:    tpm2.TPMAlgECC,
	NameAlg: tpm2.TPMAlgSHA256,
	ObjectAttributes: tpm2.TPMAObject{
		FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true,
		UserWithAuth: true, NoDA: true, Restricted: true, SignEncrypt: true,
	},
	Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
		Scheme: tpm2.TPMTECCScheme{
			Scheme:  tpm2.TPMAlgECDSA,
			Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSigSchemeECDSA{HashAlg: tpm2.TPMAlgSHA256}),
		},
		CurveID: tpm2.TPMECCNistP256,
	}),
}

// attestationKey loads the AK; the caller flushes it.
func (s *simTPM) attestationKey(t testing.TB) (tpm2.AuthHandle, *ecdsa.PublicKey, func()) {
	t.Helper()
	rsp, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHEndorsement, InPublic: tpm2.New2B(akTemplate)}.Execute(s.tr)
	if err != nil {
		t.Fatalf("create AK: %v", err)
	}
	pub, err := rsp.OutPublic.Contents()
	if err != nil {
		t.Fatal(err)
	}
	parms, err := pub.Parameters.ECCDetail()
	if err != nil {
		t.Fatal(err)
	}
	point, err := pub.Unique.ECC()
	if err != nil {
		t.Fatal(err)
	}
	key, err := tpm2.ECDSAPub(parms, point)
	if err != nil {
		t.Fatal(err)
	}
	flush := func() { tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}.Execute(s.tr) }
	return tpm2.AuthHandle{Handle: rsp.ObjectHandle, Name: rsp.Name, Auth: tpm2.PasswordAuth(nil)}, key, flush
}

// AK returns the public attestation key, as an endorsement registers it.
func (s *simTPM) AK(t testing.TB) *ecdsa.PublicKey {
	_, pub, flush := s.attestationKey(t)
	flush()
	return pub
}

// boot resets the TPM (PCRs to zero) and extends what log says the
// bootloader measured, as the bootloader does. The simulator's own Reset
// draws new hierarchy seeds, which a TPM never does on a reboot, so the
// TPM is made anew from the same fixed seed instead: the same
// attestation key, PCRs at their reset values.
func (s *simTPM) boot(t testing.TB, log eventlog.Log) {
	t.Helper()
	if err := s.sim.Close(); err != nil {
		t.Fatal(err)
	}
	s.open(t)
	for _, e := range log {
		_, err := tpm2.PCRExtend{
			PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(e.PCR), Auth: tpm2.PasswordAuth(nil)},
			Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: e.Digest}}},
		}.Execute(s.tr)
		if err != nil {
			t.Fatalf("extend: %v", err)
		}
	}
}

// quote has the TPM quote pcrs of the SHA-256 bank with qualifying data.
func (s *simTPM) quote(t testing.TB, data []byte, pcrs ...uint) Quote {
	t.Helper()
	ak, _, flush := s.attestationKey(t)
	defer flush()
	rsp, err := tpm2.Quote{
		SignHandle:     ak,
		QualifyingData: tpm2.TPM2BData{Buffer: data},
		InScheme:       tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgNull},
		PCRSelect: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
			Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(pcrs...)}}},
	}.Execute(s.tr)
	if err != nil {
		t.Fatalf("quote: %v", err)
	}
	sig, err := rsp.Signature.Signature.ECDSA()
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(sig.SignatureR.Buffer), new(big.Int).SetBytes(sig.SignatureS.Buffer)})
	if err != nil {
		t.Fatal(err)
	}
	return Quote{Attest: rsp.Quoted.Bytes(), Signature: der}
}

// quoteFunc quotes the measurement PCR, as the device's secure world does.
func (s *simTPM) quoteFunc(t testing.TB) QuoteFunc {
	return func(data []byte) (Quote, error) {
		return s.quote(t, data, eventlog.MeasurementPCR), nil
	}
}
