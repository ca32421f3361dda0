package tpm

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// Counters are NV indices of type TPM_NT_COUNTER created by the platform
// hierarchy (TPMA_NV_PLATFORMCREATE), the hierarchy of the device's own
// firmware: the owner's TPM2_Clear does not delete them, and only platform
// authorization may increment them (TPMA_NV_PPWRITE). The owner may read
// them, so attestation can report them. A counter counts by one; for a
// value that must jump (a sequence number) see the rollback index.
func counterPublic(index uint32) tpm2.TPMSNVPublic {
	return tpm2.TPMSNVPublic{
		NVIndex: tpm2.TPMHandle(index),
		NameAlg: tpm2.TPMAlgSHA256,
		Attributes: tpm2.TPMANV{
			PPWrite:        true,
			PPRead:         true,
			OwnerRead:      true,
			NoDA:           true,
			PlatformCreate: true,
			NT:             tpm2.TPMNTCounter,
		},
		DataSize: 8,
	}
}

// DefineCounter creates a monotonic counter at NV index handle index
// (0x01000000–0x01FFFFFF). A new counter has never been written; Counter
// reports it as 0. It returns ErrIndexExists if anything is defined at
// index already, leaving it as it is.
func (t *TPM) DefineCounter(index uint32) error {
	if err := checkIndex(index); err != nil {
		return err
	}
	return t.do(func(tr transport.TPM) error { return defineSpace(tr, counterPublic(index)) })
}

// Counter returns the value of the counter at index: 0 if it was never
// incremented. It returns ErrIndexUndefined or ErrWrongIndexType if there
// is no counter at index.
func (t *TPM) Counter(index uint32) (uint64, error) {
	if err := checkIndex(index); err != nil {
		return 0, err
	}
	var v uint64
	err := t.do(func(tr transport.TPM) error {
		c, err := readCounter(tr, index)
		v = c.value
		return err
	})
	return v, err
}

// IncrementCounter adds one to the counter at index.
//
// The TPM starts a never-written counter at the highest value any counter
// on this TPM ever had (TPM 2.0 Part 3, NV_Increment), so the first
// increment of a counter on a fresh TPM gives 1, but may give more on a TPM
// where a counter was undefined.
func (t *TPM) IncrementCounter(index uint32) error {
	if err := checkIndex(index); err != nil {
		return err
	}
	return t.do(func(tr transport.TPM) error {
		c, err := readCounter(tr, index)
		if err != nil {
			return err
		}
		return increment(tr, c)
	})
}

// AdvanceCounterTo increments the counter at index until it holds value.
// It returns ErrBackward, changing nothing, if the counter is already above
// value, and ErrAdvanceTooFar, changing nothing, if that would take more
// than MaxCounterAdvance increments. A counter at value already (a
// never-written counter counts as 0) is left alone.
//
// On success the counter holds value, or more if it had never been written
// and the TPM's starting value (see IncrementCounter) lay beyond value. If an
// increment fails part-way, the counter keeps the increments made so far;
// it is never below where it started.
func (t *TPM) AdvanceCounterTo(index uint32, value uint64) error {
	if err := checkIndex(index); err != nil {
		return err
	}
	return t.do(func(tr transport.TPM) error {
		c, err := readCounter(tr, index)
		if err != nil {
			return err
		}
		switch {
		case value < c.value:
			return fmt.Errorf("advance counter %#08x from %d to %d: %w", index, c.value, value, ErrBackward)
		case value == c.value:
			return nil
		case value-c.value > MaxCounterAdvance:
			return fmt.Errorf("advance counter %#08x from %d to %d: %w", index, c.value, value, ErrAdvanceTooFar)
		}
		if !c.written {
			// The first increment starts from the TPM's floor, not from 0.
			if err := increment(tr, c); err != nil {
				return err
			}
			if c, err = readCounter(tr, index); err != nil {
				return err
			}
		}
		if c.value >= value {
			return nil
		}
		// go-tpm marshals each command through reflection, which costs ten
		// times what the TPM itself does; the command is the same every
		// time (password session, no nonces), so it is marshalled once and
		// then resent as bytes.
		rec := &recorder{next: tr}
		if _, err := (tpm2.NVIncrement{AuthHandle: platformAuth(), NVIndex: c.handle}).Execute(rec); err != nil {
			return fmt.Errorf("advance counter %#08x: stopped at %d of %d: %w", index, c.value, value, err)
		}
		for c.value++; c.value < value; c.value++ {
			if err := sendRaw(tr, rec.cmd); err != nil {
				return fmt.Errorf("advance counter %#08x: stopped at %d of %d: %w", index, c.value, value, err)
			}
		}
		return nil
	})
}

// counterState is what one NV_ReadPublic and NV_Read tell about a counter.
type counterState struct {
	handle  tpm2.NamedHandle
	written bool
	value   uint64
}

// readCounter reads the counter at index.
func readCounter(tr transport.TPM, index uint32) (counterState, error) {
	nv, err := readPublic(tr, index)
	if err != nil {
		return counterState{}, err
	}
	if nv.public.Attributes.NT != tpm2.TPMNTCounter {
		return counterState{}, fmt.Errorf("counter %#08x: %w", index, ErrWrongIndexType)
	}
	c := counterState{handle: nv.handle, written: nv.public.Attributes.Written}
	if !c.written {
		return c, nil // TPM2_NV_Read would answer TPM_RC_NV_UNINITIALIZED
	}
	rsp, err := tpm2.NVRead{AuthHandle: platformAuth(), NVIndex: c.handle, Size: 8}.Execute(tr)
	if err != nil {
		return counterState{}, fmt.Errorf("read counter %#08x: %w", index, err)
	}
	if len(rsp.Data.Buffer) != 8 {
		return counterState{}, fmt.Errorf("read counter %#08x: TPM returned %d bytes", index, len(rsp.Data.Buffer))
	}
	c.value = binary.BigEndian.Uint64(rsp.Data.Buffer)
	return c, nil
}

// increment sends one TPM2_NV_Increment.
func increment(tr transport.TPM, c counterState) error {
	if _, err := (tpm2.NVIncrement{AuthHandle: platformAuth(), NVIndex: c.handle}).Execute(tr); err != nil {
		return fmt.Errorf("increment counter %#08x: %w", uint32(c.handle.Handle), err)
	}
	return nil
}

// recorder passes commands on and keeps the last one.
type recorder struct {
	next transport.TPM
	cmd  []byte
}

func (r *recorder) Send(cmd []byte) ([]byte, error) {
	r.cmd = bytes.Clone(cmd)
	return r.next.Send(cmd)
}

// sendRaw sends a marshalled command whose response carries no parameters
// worth reading, and returns the TPM's response code as an error.
func sendRaw(tr transport.TPM, cmd []byte) error {
	rsp, err := tr.Send(cmd)
	if err != nil {
		return err
	}
	// Response header: tag uint16, responseSize uint32, responseCode uint32.
	if len(rsp) < 10 {
		return fmt.Errorf("short TPM response (%d bytes)", len(rsp))
	}
	if rc := tpm2.TPMRC(binary.BigEndian.Uint32(rsp[6:10])); rc != tpm2.TPMRCSuccess {
		return rc
	}
	return nil
}
