package tpm

import (
	"encoding/binary"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// A rollback index holds the lowest sequence number a component may run:
// any uint64, raised in one step to any higher value, never lowered.
//
// # Why an ordinary NV index and not an NV counter
//
// A TPM counter (TPM_NT_COUNTER) is monotonic by construction, but it only
// counts by one: reaching a SUIT sequence number that is a UTC timestamp
// (draft-ietf-suit-manifest-37 §8.4.2) from 1 takes 1.7 billion
// TPM2_NV_Increment commands, and a jump to near 2^64 never ends. Capping
// the jump is no answer either: a manifest the device cannot commit must not
// exist for it at all. The constructions that keep a counter either put an
// offset outside the TPM (in flash, where a copied-back flash lowers the
// value) or need one command per step. TPM_NT_BITS (TPM2_NV_SetBits) is
// monotonic too, but in the bitwise order: it cannot hold an arbitrary
// larger number. A policy that makes the TPM itself compare old and new
// values (TPM2_PolicyNV) cannot bind the value being written without a
// policy per value.
//
// So the value is an ordinary 8-byte NV index (TPM_NT_ORDINARY) whose write
// needs platform authorization (TPMA_NV_PPWRITE, no owner or index auth),
// which only the secure world holds (see the package comment); it is
// written whole or not at all (TPMA_NV_WRITEALL; a TPM NV write is atomic,
// so a power cut leaves the old value or the new one), created by the
// platform hierarchy so that the owner's TPM2_Clear cannot delete it
// (TPMA_NV_PLATFORMCREATE), and readable by the owner for attestation. The
// TPM guarantees that nothing but the secure world writes it and that it
// survives any change of the flash; the secure world guarantees the
// direction, here, by reading the value and refusing a lower one within the
// same locked unit as the write. Raising it costs one read and one write
// whatever the distance.
func rollbackPublic(index uint32) tpm2.TPMSNVPublic {
	return tpm2.TPMSNVPublic{
		NVIndex: tpm2.TPMHandle(index),
		NameAlg: tpm2.TPMAlgSHA256,
		Attributes: tpm2.TPMANV{
			PPWrite:        true,
			WriteAll:       true,
			PPRead:         true,
			OwnerRead:      true,
			NoDA:           true,
			PlatformCreate: true,
			NT:             tpm2.TPMNTOrdinary,
		},
		DataSize: 8,
	}
}

// DefineRollbackIndex creates a rollback index at NV handle index
// (0x01000000–0x01FFFFFF). A new one reads 0. It returns ErrIndexExists,
// changing nothing, if anything is defined at index already.
func (t *TPM) DefineRollbackIndex(index uint32) error {
	if err := checkIndex(index); err != nil {
		return err
	}
	return t.do(func(tr transport.TPM) error { return defineSpace(tr, rollbackPublic(index)) })
}

// RollbackIndex returns the value of the rollback index at index: 0 if it
// was never written. ErrIndexUndefined if there is none, ErrWrongIndexType
// if the index there is not one.
func (t *TPM) RollbackIndex(index uint32) (uint64, error) {
	if err := checkIndex(index); err != nil {
		return 0, err
	}
	var v uint64
	err := t.do(func(tr transport.TPM) error {
		_, value, err := readRollback(tr, index)
		v = value
		return err
	})
	return v, err
}

// RaiseRollbackIndex sets the rollback index at index to value, in one TPM
// write whatever the distance. A value equal to the current one changes
// nothing; a lower one is refused with ErrBackward and changes nothing.
// Once it returns nil, the TPM holds value across any power cut.
func (t *TPM) RaiseRollbackIndex(index uint32, value uint64) error {
	if err := checkIndex(index); err != nil {
		return err
	}
	return t.do(func(tr transport.TPM) error {
		nv, cur, err := readRollback(tr, index)
		if err != nil {
			return err
		}
		switch {
		case value < cur:
			return fmt.Errorf("raise rollback index %#08x from %d to %d: %w", index, cur, value, ErrBackward)
		case value == cur && nv.public.Attributes.Written:
			return nil
		}
		data := binary.BigEndian.AppendUint64(nil, value)
		if _, err := (tpm2.NVWrite{AuthHandle: platformAuth(), NVIndex: nv.handle,
			Data: tpm2.TPM2BMaxNVBuffer{Buffer: data}}).Execute(tr); err != nil {
			return fmt.Errorf("raise rollback index %#08x to %d: %w", index, value, err)
		}
		return nil
	})
}

// readRollback reads a rollback index: its handle and its value.
func readRollback(tr transport.TPM, index uint32) (nvState, uint64, error) {
	nv, err := readPublic(tr, index)
	if err != nil {
		return nvState{}, 0, err
	}
	// Only an index with exactly these attributes is trusted to be one:
	// an index an owner could write would be no floor at all.
	want := rollbackPublic(index).Attributes
	got := nv.public.Attributes
	got.Written = false
	if got != want || nv.public.DataSize != 8 {
		return nvState{}, 0, fmt.Errorf("rollback index %#08x: %w", index, ErrWrongIndexType)
	}
	if !nv.public.Attributes.Written {
		return nv, 0, nil // TPM2_NV_Read would answer TPM_RC_NV_UNINITIALIZED
	}
	rsp, err := tpm2.NVRead{AuthHandle: platformAuth(), NVIndex: nv.handle, Size: 8}.Execute(tr)
	if err != nil {
		return nvState{}, 0, fmt.Errorf("read rollback index %#08x: %w", index, err)
	}
	if len(rsp.Data.Buffer) != 8 {
		return nvState{}, 0, fmt.Errorf("read rollback index %#08x: TPM returned %d bytes", index, len(rsp.Data.Buffer))
	}
	return nv, binary.BigEndian.Uint64(rsp.Data.Buffer), nil
}
