package tpm

import (
	"crypto/sha256"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

func checkPCR(pcr int) error {
	if pcr < 0 || pcr >= NumPCRs {
		return fmt.Errorf("%w: PCR %d not in 0..%d", ErrInvalidArgument, pcr, NumPCRs-1)
	}
	return nil
}

// pcrSelection selects PCRs of the SHA-256 bank.
func pcrSelection(pcrs ...int) tpm2.TPMLPCRSelection {
	sel := make([]uint, len(pcrs))
	for i, p := range pcrs {
		sel[i] = uint(p)
	}
	return tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
		Hash:      tpm2.TPMAlgSHA256,
		PCRSelect: tpm2.PCClientCompatible.PCRs(sel...),
	}}}
}

// Extend extends PCR pcr of the SHA-256 bank with digest, a SHA-256 value:
// the PCR becomes SHA-256(old || digest). The other banks are not touched.
// PCRs 17–22 belong to localities above 0 in the reference TPM, so the TPM
// refuses to extend them from here (TPM_RC_LOCALITY).
func (t *TPM) Extend(pcr int, digest []byte) error {
	if err := checkPCR(pcr); err != nil {
		return err
	}
	if len(digest) != sha256.Size {
		return fmt.Errorf("%w: digest of %d bytes, want %d", ErrInvalidArgument, len(digest), sha256.Size)
	}
	return t.do(func(tr transport.TPM) error {
		_, err := tpm2.PCRExtend{
			PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(pcr), Auth: tpm2.PasswordAuth(nil)},
			Digests: tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{
				HashAlg: tpm2.TPMAlgSHA256,
				Digest:  append([]byte(nil), digest...),
			}}},
		}.Execute(tr)
		if err != nil {
			return fmt.Errorf("extend PCR %d: %w", pcr, err)
		}
		return nil
	})
}

// ReadPCR returns PCR pcr of the SHA-256 bank. After a reset, PCRs 0–16
// and 23 read all zero, and PCRs 17–22 all 0xFF.
func (t *TPM) ReadPCR(pcr int) ([]byte, error) {
	if err := checkPCR(pcr); err != nil {
		return nil, err
	}
	var value []byte
	err := t.do(func(tr transport.TPM) error {
		rsp, err := tpm2.PCRRead{PCRSelectionIn: pcrSelection(pcr)}.Execute(tr)
		if err != nil {
			return fmt.Errorf("read PCR %d: %w", pcr, err)
		}
		if len(rsp.PCRValues.Digests) != 1 || len(rsp.PCRValues.Digests[0].Buffer) != sha256.Size {
			return fmt.Errorf("read PCR %d: TPM returned %d values", pcr, len(rsp.PCRValues.Digests))
		}
		value = rsp.PCRValues.Digests[0].Buffer
		return nil
	})
	return value, err
}
