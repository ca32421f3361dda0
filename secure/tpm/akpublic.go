package tpm

import (
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// AttestationKeyPublic returns what a verifier registers of the TPM's
// attestation key at provisioning: its public area (a TPMT_PUBLIC, as the
// TPM encodes it) and its name (the name algorithm's ID followed by the
// digest of the public area). A verifier recomputes the name from the
// public area, and from the area's attributes sees that the key is
// restricted and fixed to this TPM, so that it signs only what the TPM
// itself made.
func (t *TPM) AttestationKeyPublic() (public, name []byte, err error) {
	err = t.do(func(tr transport.TPM) error {
		rsp, err := tpm2.CreatePrimary{
			PrimaryHandle: tpm2.TPMRHEndorsement,
			InPublic:      tpm2.New2B(attestationKeyTemplate),
		}.Execute(tr)
		if err != nil {
			return fmt.Errorf("attestation key: %w", err)
		}
		defer tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}.Execute(tr)
		public, name = rsp.OutPublic.Bytes(), rsp.Name.Buffer
		return nil
	})
	return public, name, err
}

// ResetCount is the TPM's count of TPM Resets (clockInfo.resetCount): one
// more at every power-on, never lower. A quote by the attestation key
// carries it in the clear, so a verifier can check a boot count against it.
func (t *TPM) ResetCount() (uint32, error) {
	var n uint32
	err := t.do(func(tr transport.TPM) error {
		rsp, err := tpm2.ReadClock{}.Execute(tr)
		if err != nil {
			return fmt.Errorf("read clock: %w", err)
		}
		n = rsp.CurrentTime.ClockInfo.ResetCount
		return nil
	})
	return n, err
}
