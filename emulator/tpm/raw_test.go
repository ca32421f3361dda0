package tpm

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// The tests of the chip send raw TPM commands: the package that wraps them
// for the secure world (secure/tpm) is not ours to import here.

func platform() tpm2.AuthHandle {
	return tpm2.AuthHandle{Handle: tpm2.TPMRHPlatform, Auth: tpm2.PasswordAuth(nil)}
}

func nvHandle(tr transport.TPM, index uint32) (tpm2.NamedHandle, bool, error) {
	pub, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(index)}.Execute(tr)
	if err != nil {
		return tpm2.NamedHandle{}, false, err
	}
	info, err := pub.NVPublic.Contents()
	if err != nil {
		return tpm2.NamedHandle{}, false, err
	}
	return tpm2.NamedHandle{Handle: tpm2.TPMHandle(index), Name: pub.NVName}, info.Attributes.Written, nil
}

func defineCounter(tr transport.TPM, index uint32) error {
	_, err := tpm2.NVDefineSpace{AuthHandle: platform(), PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
		NVIndex: tpm2.TPMHandle(index), NameAlg: tpm2.TPMAlgSHA256, DataSize: 8,
		Attributes: tpm2.TPMANV{PPWrite: true, PPRead: true, NoDA: true, PlatformCreate: true, NT: tpm2.TPMNTCounter},
	})}.Execute(tr)
	return err
}

func incrementCounter(tr transport.TPM, index uint32) error {
	h, _, err := nvHandle(tr, index)
	if err != nil {
		return err
	}
	_, err = tpm2.NVIncrement{AuthHandle: platform(), NVIndex: h}.Execute(tr)
	return err
}

func counterValue(tr transport.TPM, index uint32) (uint64, error) {
	h, written, err := nvHandle(tr, index)
	if err != nil || !written {
		return 0, err
	}
	rsp, err := tpm2.NVRead{AuthHandle: platform(), NVIndex: h, Size: 8}.Execute(tr)
	if err != nil {
		return 0, err
	}
	if len(rsp.Data.Buffer) != 8 {
		return 0, fmt.Errorf("counter of %d bytes", len(rsp.Data.Buffer))
	}
	return binary.BigEndian.Uint64(rsp.Data.Buffer), nil
}

func readPCR(tr transport.TPM, pcr int) ([]byte, error) {
	rsp, err := tpm2.PCRRead{PCRSelectionIn: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
		Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(uint(pcr)),
	}}}}.Execute(tr)
	if err != nil {
		return nil, err
	}
	if len(rsp.PCRValues.Digests) != 1 {
		return nil, fmt.Errorf("%d PCR values", len(rsp.PCRValues.Digests))
	}
	return rsp.PCRValues.Digests[0].Buffer, nil
}

func mustDefineCounter(t *testing.T, tr transport.TPM, index uint32) {
	t.Helper()
	if err := defineCounter(tr, index); err != nil {
		t.Fatalf("define counter: %v", err)
	}
}

func mustIncrement(t *testing.T, tr transport.TPM, index uint32) {
	t.Helper()
	if err := incrementCounter(tr, index); err != nil {
		t.Fatalf("increment counter: %v", err)
	}
}

func mustExtend(t *testing.T, tr transport.TPM, pcr int, digest []byte) {
	t.Helper()
	_, err := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(pcr), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: digest}}},
	}.Execute(tr)
	if err != nil {
		t.Fatalf("extend PCR %d: %v", pcr, err)
	}
}

func wantCounter(t *testing.T, tr transport.TPM, index uint32, want uint64) {
	t.Helper()
	got, err := counterValue(tr, index)
	if err != nil {
		t.Fatalf("counter %#x: %v", index, err)
	}
	if got != want {
		t.Fatalf("counter %#x = %d, want %d", index, got, want)
	}
}
