package tpm

import (
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

func checkIndex(index uint32) error {
	if tpm2.TPMHT(index>>24) != tpm2.TPMHTNVIndex {
		return fmt.Errorf("%w: %#08x is not an NV index handle (0x01xxxxxx)", ErrInvalidArgument, index)
	}
	return nil
}

// nvState is what one TPM2_NV_ReadPublic tells about an index.
type nvState struct {
	handle tpm2.NamedHandle
	public tpm2.TPMSNVPublic
}

// readPublic reads the public area of the NV index; ErrIndexUndefined if
// there is none.
func readPublic(tr transport.TPM, index uint32) (nvState, error) {
	pub, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(index)}.Execute(tr)
	if errors.Is(err, tpm2.TPMRCHandle) {
		return nvState{}, fmt.Errorf("NV index %#08x: %w", index, ErrIndexUndefined)
	}
	if err != nil {
		return nvState{}, fmt.Errorf("NV index %#08x: %w", index, err)
	}
	info, err := pub.NVPublic.Contents()
	if err != nil {
		return nvState{}, fmt.Errorf("NV index %#08x: %w", index, err)
	}
	return nvState{handle: tpm2.NamedHandle{Handle: info.NVIndex, Name: pub.NVName}, public: *info}, nil
}

// defineSpace creates an NV index with platform authorization.
func defineSpace(tr transport.TPM, public tpm2.TPMSNVPublic) error {
	_, err := tpm2.NVDefineSpace{AuthHandle: platformAuth(), PublicInfo: tpm2.New2B(public)}.Execute(tr)
	if errors.Is(err, tpm2.TPMRCNVDefined) {
		return fmt.Errorf("define NV index %#08x: %w", uint32(public.NVIndex), ErrIndexExists)
	}
	if err != nil {
		return fmt.Errorf("define NV index %#08x: %w", uint32(public.NVIndex), err)
	}
	return nil
}
