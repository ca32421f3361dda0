package tpm_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/teeup/teeup/secure/tpm"
	"github.com/teeup/teeup/secure/tpm/tpmtest"
)

// TestAttestationKeyPublic: the public area and name a verifier registers
// are those of the key that signs the quotes (the same point, the name the
// SHA-256 of the area), a restricted signing key fixed to the TPM, the same
// after a power cycle; the reset count goes up by one at each power-on.
func TestAttestationKeyPublic(t *testing.T) {
	sim := tpmtest.Open(t)
	public, name, err := sim.AttestationKeyPublic()
	if err != nil {
		t.Fatal(err)
	}
	area, err := tpm2.Unmarshal[tpm2.TPMTPublic](public)
	if err != nil {
		t.Fatal(err)
	}
	if a := area.ObjectAttributes; !a.Restricted || !a.SignEncrypt || !a.FixedTPM || !a.SensitiveDataOrigin {
		t.Fatalf("attestation key attributes %+v", a)
	}
	sum := sha256.Sum256(public)
	if want := append(binary.BigEndian.AppendUint16(nil, uint16(tpm2.TPMAlgSHA256)), sum[:]...); !bytes.Equal(name, want) {
		t.Fatalf("name %x, want %x", name, want)
	}
	point, err := area.Unique.ECC()
	if err != nil {
		t.Fatal(err)
	}
	ak, err := sim.AttestationKey()
	if err != nil {
		t.Fatal(err)
	}
	akPoint, err := ak.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if want := append(append([]byte{4}, point.X.Buffer...), point.Y.Buffer...); !bytes.Equal(akPoint, want) {
		t.Fatal("the public area is not the key that signs quotes")
	}
	before, err := sim.ResetCount()
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Chip.Reset(); err != nil {
		t.Fatal(err)
	}
	after, err := sim.ResetCount()
	if err != nil || after != before+1 {
		t.Fatalf("reset count %d after a power cycle from %d: %v", after, before, err)
	}
	again, againName, err := tpm.New(sim.Chip).AttestationKeyPublic()
	if err != nil || !bytes.Equal(again, public) || !bytes.Equal(againName, name) {
		t.Fatalf("after a power cycle: another public area or name (%v)", err)
	}
}
