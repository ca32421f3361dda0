package tpm_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/teeup/teeup/secure/tpm"
	"github.com/teeup/teeup/secure/tpm/tpmtest"
)

func TestExtend(t *testing.T) {
	sim := tpmtest.Open(t)
	tp := sim.TPM
	d1 := sha256.Sum256([]byte("secure image"))
	d2 := sha256.Sum256([]byte("normal image"))
	want := make([]byte, sha256.Size) // PCR 7 after Startup(CLEAR)
	for _, d := range [][32]byte{d1, d2} {
		if err := tp.Extend(7, d[:]); err != nil {
			t.Fatalf("Extend: %v", err)
		}
		next := sha256.Sum256(append(want, d[:]...))
		want = next[:]
		got, err := tp.ReadPCR(7)
		if err != nil {
			t.Fatalf("ReadPCR: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("PCR 7 = %x, want %x", got, want)
		}
	}
	// Other PCRs are untouched.
	if got, err := tp.ReadPCR(8); err != nil || !bytes.Equal(got, make([]byte, 32)) {
		t.Fatalf("PCR 8 = %x, %v; want zero", got, err)
	}
	bad := []struct {
		name   string
		pcr    int
		digest []byte
	}{
		{"negative PCR", -1, d1[:]},
		{"PCR past the bank", tpm.NumPCRs, d1[:]},
		{"short digest", 0, d1[:31]},
		{"long digest", 0, append(d1[:], 0)},
		{"SHA-1 sized digest", 0, d1[:20]},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := tp.Extend(tc.pcr, tc.digest); !errors.Is(err, tpm.ErrInvalidArgument) {
				t.Fatalf("Extend = %v, want ErrInvalidArgument", err)
			}
		})
	}
	if _, err := tp.ReadPCR(tpm.NumPCRs); !errors.Is(err, tpm.ErrInvalidArgument) {
		t.Fatalf("ReadPCR(%d) = %v, want ErrInvalidArgument", tpm.NumPCRs, err)
	}
	// The reference TPM keeps PCR 17 for locality 4.
	if err := tp.Extend(17, d1[:]); !errors.Is(err, tpm2.TPMRCLocality) {
		t.Fatalf("Extend(17) = %v, want TPM_RC_LOCALITY", err)
	}
	// A power cut clears it.
	sim.Reset(t)
	if got, err := tp.ReadPCR(7); err != nil || !bytes.Equal(got, make([]byte, 32)) {
		t.Fatalf("PCR 7 after a reset = %x, %v; want zero", got, err)
	}
}
