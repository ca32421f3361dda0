package tpm_test

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/teeup/teeup/secure/tpm"
	"github.com/teeup/teeup/secure/tpm/tpmtest"
)

const testIndex = 0x01500030

// countingTransport counts the commands sent through it.
type countingTransport struct {
	next transport.TPM
	n    int
}

func (c *countingTransport) Send(cmd []byte) ([]byte, error) {
	c.n++
	return c.next.Send(cmd)
}

// TestRollbackIndexRaise raises one index through a story of jumps: each
// raise, whatever its distance, is the same few TPM commands; a lower value
// is refused and changes nothing; the value survives a power cut and a
// restart of the TPM.
func TestRollbackIndexRaise(t *testing.T) {
	sim := tpmtest.Open(t)
	count := &countingTransport{next: sim.Chip}
	tp := tpm.New(count)
	if err := tp.DefineRollbackIndex(testIndex); err != nil {
		t.Fatal(err)
	}
	if err := tp.DefineRollbackIndex(testIndex); !errors.Is(err, tpm.ErrIndexExists) {
		t.Fatalf("second define: %v", err)
	}
	const timestamp = 1764765716 // 2025-12-03T12:41:56Z as a UTC sequence number
	steps := []struct {
		name    string
		raise   uint64
		want    uint64
		wantErr error
	}{
		{"never written reads 0", 0, 0, nil},
		{"first write", 1, 1, nil},
		{"same value", 1, 1, nil},
		{"one step", 2, 2, nil},
		{"more than 65536 at once", 65538 + 2, 65540, nil},
		{"a UTC timestamp", timestamp, timestamp, nil},
		{"backward", timestamp - 1, timestamp, tpm.ErrBackward},
		{"to zero", 0, timestamp, tpm.ErrBackward},
		{"to the top of uint64", math.MaxUint64, math.MaxUint64, nil},
		{"below the top", math.MaxUint64 - 1, math.MaxUint64, tpm.ErrBackward},
	}
	for _, s := range steps {
		count.n = 0
		err := tp.RaiseRollbackIndex(testIndex, s.raise)
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Fatalf("%s: raise to %d: %v, want %v", s.name, s.raise, err, s.wantErr)
		}
		// NV_ReadPublic, NV_Read (once written), NV_Write: never one per step.
		if count.n > 3 {
			t.Errorf("%s: %d TPM commands", s.name, count.n)
		}
		got, err := tp.RollbackIndex(testIndex)
		if err != nil || got != s.want {
			t.Fatalf("%s: reads %d, %v; want %d", s.name, got, err, s.want)
		}
	}
	sim.Reset(t)
	if got, err := sim.RollbackIndex(testIndex); err != nil || got != math.MaxUint64 {
		t.Fatalf("after a power cut: %d, %v", got, err)
	}
	dir := sim.Dir
	sim.Close()
	again := tpmtest.OpenDir(t, dir)
	if got, err := again.RollbackIndex(testIndex); err != nil || got != math.MaxUint64 {
		t.Fatalf("after a restart: %d, %v", got, err)
	}
}

// TestRollbackIndexHostileWrites plays a normal world with the TPM's owner
// authorization (and the index's own, empty, auth value): it cannot lower,
// raise or delete the index, and an index it defines itself at that handle
// is not taken for one.
func TestRollbackIndexHostileWrites(t *testing.T) {
	sim := tpmtest.Open(t)
	if err := sim.DefineRollbackIndex(testIndex); err != nil {
		t.Fatal(err)
	}
	if err := sim.RaiseRollbackIndex(testIndex, 1000); err != nil {
		t.Fatal(err)
	}
	tr := sim.Chip
	pub, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(testIndex)}.Execute(tr)
	if err != nil {
		t.Fatal(err)
	}
	nv := tpm2.NamedHandle{Handle: tpm2.TPMHandle(testIndex), Name: pub.NVName}
	zero := tpm2.TPM2BMaxNVBuffer{Buffer: make([]byte, 8)}
	owner := tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)}
	index := tpm2.AuthHandle{Handle: nv.Handle, Name: nv.Name, Auth: tpm2.PasswordAuth(nil)}
	attacks := []struct {
		name string
		run  func() error
	}{
		{"write 0 with owner auth", func() error {
			_, err := tpm2.NVWrite{AuthHandle: owner, NVIndex: nv, Data: zero}.Execute(tr)
			return err
		}},
		{"write 0 with the index's auth", func() error {
			_, err := tpm2.NVWrite{AuthHandle: index, NVIndex: nv, Data: zero}.Execute(tr)
			return err
		}},
		{"write the low bytes only", func() error {
			auth := tpm2.AuthHandle{Handle: tpm2.TPMRHPlatform, Auth: tpm2.PasswordAuth(nil)}
			_, err := tpm2.NVWrite{AuthHandle: auth, NVIndex: nv, Data: tpm2.TPM2BMaxNVBuffer{Buffer: []byte{0}}, Offset: 7}.Execute(tr)
			return err
		}},
		{"undefine with owner auth", func() error {
			_, err := tpm2.NVUndefineSpace{AuthHandle: owner, NVIndex: nv}.Execute(tr)
			return err
		}},
		{"clear the owner hierarchy", func() error {
			_, err := tpm2.Clear{AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHLockout, Auth: tpm2.PasswordAuth(nil)}}.Execute(tr)
			return err // the clear itself succeeds; the index must survive it
		}},
	}
	for _, a := range attacks {
		_ = a.run()
		if got, err := sim.RollbackIndex(testIndex); err != nil || got != 1000 {
			t.Fatalf("after %s: %d, %v", a.name, got, err)
		}
	}

	// An owner-writable index at another handle is not a rollback index.
	fake := uint32(testIndex + 1)
	if _, err := (tpm2.NVDefineSpace{AuthHandle: owner, PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
		NVIndex: tpm2.TPMHandle(fake), NameAlg: tpm2.TPMAlgSHA256, DataSize: 8,
		Attributes: tpm2.TPMANV{OwnerWrite: true, OwnerRead: true, NoDA: true, NT: tpm2.TPMNTOrdinary},
	})}).Execute(tr); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.RollbackIndex(fake); !errors.Is(err, tpm.ErrWrongIndexType) {
		t.Fatalf("owner's index read as a rollback index: %v", err)
	}
	if err := sim.RaiseRollbackIndex(fake, 1); !errors.Is(err, tpm.ErrWrongIndexType) {
		t.Fatalf("owner's index raised as a rollback index: %v", err)
	}
	if _, err := sim.RollbackIndex(testIndex + 2); !errors.Is(err, tpm.ErrIndexUndefined) {
		t.Fatalf("undefined index: %v", err)
	}
	if _, err := sim.RollbackIndex(0x81000000); !errors.Is(err, tpm.ErrInvalidArgument) {
		t.Fatalf("persistent-object handle: %v", err)
	}
}
