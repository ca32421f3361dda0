// Package storagetest is the test kit of the secure storage: the NOR flash
// model held in memory, with injectable power cuts, for the store's banks.
// It wires the emulator's flash into the tests of secure/storage, which do
// not import the emulator themselves; the TPM comes from secure/tpm/tpmtest.
//
// Trust: for tests only.
package storagetest

import (
	"testing"

	"github.com/teeup/teeup/emulator/flash"
)

// Flash is the NOR flash model: erase to 0xFF, program clears bits, power
// cuts before, after or torn inside any operation, counted operations.
type Flash = flash.Flash

// ErrPowerCut is the error of a flash operation that a power cut stopped,
// and of every operation after it until the power comes back.
var ErrPowerCut = flash.ErrPowerCut

// NewFlash returns an erased flash of size bytes in sectors of sectorSize,
// programmed in units of writeAlign.
func NewFlash(t testing.TB, size, sectorSize, writeAlign int64) *Flash {
	t.Helper()
	f, err := flash.NewMem(flash.Config{Size: size, SectorSize: sectorSize, WriteAlign: writeAlign})
	if err != nil {
		t.Fatal(err)
	}
	return f
}
