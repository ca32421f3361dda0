package attest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/teeup/teeup/attest/eventlog"
)

// The benchmarks of attestation, each next to the bare operations it
// contains, so that one run shows what the format and the checks cost
// over the cryptography and the TPM:
//
//	evidence generation (NewEvidence)  ⊃ ECDSA sign (EAT) + TPM quote (simulator)
//	verification (Verifier.Verify)     ⊃ ECDSA verify (EAT) + quote verify (ECDSA verify) + replay
//	appraisal + EAR (Appraise, EAR)    ⊃ ECDSA sign (JWT)
//
// Each reports ops/s. The TPM is the reference simulator in process, so
// its figure is the simulator's, not a chip's.

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkECDSASign(b *testing.B) {
	key := testKey(b, 1)
	d := sha256.Sum256([]byte("payload"))
	for b.Loop() {
		if _, err := ecdsa.SignASN1(rand.Reader, key, d[:]); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

func BenchmarkECDSAVerify(b *testing.B) {
	key := testKey(b, 1)
	d := sha256.Sum256([]byte("payload"))
	sig, err := ecdsa.SignASN1(rand.Reader, key, d[:])
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !ecdsa.VerifyASN1(&key.PublicKey, d[:], sig) {
			b.Fatal("does not verify")
		}
	}
	reportRate(b)
}

func BenchmarkTPMQuote(b *testing.B) {
	tpm := openTPM(b, 1)
	tpm.boot(b, testLog(testClaims()))
	data := digest("qualifying data")
	for b.Loop() {
		tpm.quote(b, data, eventlog.MeasurementPCR)
	}
	reportRate(b)
}

func BenchmarkSignClaims(b *testing.B) {
	key, c := testKey(b, 1), testClaims()
	for b.Loop() {
		if _, err := SignClaims(c, key); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

func BenchmarkNewEvidence(b *testing.B) {
	tpm := openTPM(b, 1)
	key, c := testKey(b, 1), testClaims()
	log := testLog(c)
	tpm.boot(b, log)
	for b.Loop() {
		ev, err := NewEvidence(c, key, tpm.quoteFunc(b), log)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ev.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// benchEvidence is one honest evidence, encoded, and a verifier for it.
func benchEvidence(b *testing.B) ([]byte, *Verifier, *ecdsa.PublicKey, *Claims) {
	tpm := openTPM(b, 1)
	key, c := testKey(b, 1), testClaims()
	log := testLog(c)
	tpm.boot(b, log)
	ev, err := NewEvidence(c, key, tpm.quoteFunc(b), log)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := ev.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	v := &Verifier{
		Endorsements: Endorsements{{UEID: c.UEID, AttestationKey: &key.PublicKey, TPMKey: tpm.AK(b)}},
		Nonces:       &NonceStore{Now: func() time.Time { return time.Unix(0, 0) }},
	}
	return raw, v, tpm.AK(b), c
}

func BenchmarkVerifyEAT(b *testing.B) {
	key := testKey(b, 1)
	s, err := SignClaims(testClaims(), key)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := VerifyEAT(s.COSE, &key.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

func BenchmarkVerifyQuote(b *testing.B) {
	raw, _, ak, _ := benchEvidence(b)
	ev, err := DecodeEvidence(raw)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := VerifyQuote(ev.Quote, ak); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// BenchmarkVerify decodes and verifies the evidence; the nonce is
// registered again before each verification (outside the timer's view it
// is one map insert).
func BenchmarkVerify(b *testing.B) {
	raw, v, _, c := benchEvidence(b)
	for b.Loop() {
		if err := v.Nonces.Register(c.Nonce); err != nil {
			b.Fatal(err)
		}
		ev, err := DecodeEvidence(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(ev); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

func BenchmarkAppraiseEAR(b *testing.B) {
	c := testClaims()
	v, refs := testVerified(c), testReference(c)
	key := testKey(b, 9)
	for b.Loop() {
		a := Appraise(v, refs, Policy{})
		if _, err := a.EAR(key, testResultOptions); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}
