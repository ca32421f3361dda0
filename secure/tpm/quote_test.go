package tpm_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/teeup/teeup/secure/tpm"
	"github.com/teeup/teeup/secure/tpm/tpmtest"
)

// TestQuote has the TPM quote two PCRs with a verifier's nonce and checks
// the quote as a verifier would: the attestation key's signature over the
// attested bytes, a TPM-made quote structure, the nonce, and the digest of
// the PCR values. A quote altered in any byte, or checked against another
// nonce, fails.
func TestQuote(t *testing.T) {
	sim := tpmtest.Open(t)
	tp := sim.TPM
	m := sha256.Sum256([]byte("secure image"))
	if err := tp.Extend(0, m[:]); err != nil {
		t.Fatal(err)
	}
	ak, err := tp.AttestationKey()
	if err != nil {
		t.Fatal(err)
	}
	nonce := []byte("a fresh challenge from the verifier")
	q, err := tp.Quote(nonce, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	check := func(q *tpm.Quote, nonce []byte) error {
		sum := sha256.Sum256(q.Attest)
		if !ecdsa.VerifyASN1(ak, sum[:], q.Signature) {
			return errors.New("signature does not verify")
		}
		attest, err := tpm2.Unmarshal[tpm2.TPMSAttest](q.Attest)
		if err != nil {
			return err
		}
		if attest.Magic != tpm2.TPMGeneratedValue || attest.Type != tpm2.TPMSTAttestQuote {
			return errors.New("not a quote the TPM made")
		}
		if !bytes.Equal(attest.ExtraData.Buffer, nonce) {
			return errors.New("another nonce")
		}
		info, err := attest.Attested.Quote()
		if err != nil {
			return err
		}
		var values []byte
		for _, p := range []int{0, 1} {
			v, err := tp.ReadPCR(p)
			if err != nil {
				return err
			}
			values = append(values, v...)
		}
		if want := sha256.Sum256(values); !bytes.Equal(info.PCRDigest.Buffer, want[:]) {
			return errors.New("PCR digest does not match the PCRs")
		}
		return nil
	}
	if err := check(q, nonce); err != nil {
		t.Fatalf("the quote: %v", err)
	}
	if err := check(q, []byte("an older challenge")); err == nil {
		t.Fatal("the quote passed for another nonce")
	}
	for i := range q.Attest {
		bad := &tpm.Quote{Attest: bytes.Clone(q.Attest), Signature: q.Signature}
		bad.Attest[i] ^= 1
		if check(bad, nonce) == nil {
			t.Fatalf("a quote with byte %d flipped passed", i)
		}
	}
	// The same key after a restart of the TPM; another TPM has another.
	dir := sim.Dir
	sim.Close()
	reopened := tpmtest.OpenDir(t, dir)
	again, err := reopened.AttestationKey()
	if err != nil || !again.Equal(ak) {
		t.Fatalf("attestation key after a restart: %v", err)
	}
	reopened.Close()
	if other, err := tpmtest.Open(t).AttestationKey(); err != nil || other.Equal(ak) {
		t.Fatalf("another TPM's attestation key: equal %v, %v", other.Equal(ak), err)
	}
}

func TestQuoteArguments(t *testing.T) {
	tp := tpmtest.Open(t)
	for _, tc := range []struct {
		name  string
		nonce []byte
		pcrs  []int
	}{
		{"no nonce", nil, []int{0}},
		{"nonce too long", make([]byte, tpm.MaxQuoteNonce+1), []int{0}},
		{"no PCR", []byte("n"), nil},
		{"PCR past the bank", []byte("n"), []int{tpm.NumPCRs}},
	} {
		if _, err := tp.Quote(tc.nonce, tc.pcrs...); !errors.Is(err, tpm.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", tc.name, err)
		}
	}
}
