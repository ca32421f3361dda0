package device

import (
	"errors"
	"fmt"

	"github.com/teeup/teeup/emulator/flash"
	"github.com/teeup/teeup/emulator/tpm"
	"github.com/teeup/teeup/secure/boot"
)

// counterBase is the first TPM NV index of the per-component
// anti-rollback counters (owner range).
const counterBase = 0x01500010

// Counters are the bootloader's anti-rollback counters, kept in TPM NV
// counters, one per component.
type Counters struct{ TPM *tpm.TPM }

func counterIndex(c boot.Component) uint32 { return counterBase + uint32(c) }

// Define creates the counters on a new TPM.
func (k Counters) Define() error {
	for _, c := range boot.Components {
		if err := k.TPM.DefineCounter(counterIndex(c)); err != nil {
			return fmt.Errorf("define %s counter: %w", c, err)
		}
	}
	return nil
}

// Counter implements boot.Counters.
func (k Counters) Counter(c boot.Component) (uint64, error) { return k.TPM.Counter(counterIndex(c)) }

// AdvanceCounterTo implements boot.Counters.
func (k Counters) AdvanceCounterTo(c boot.Component, v uint64) error {
	return k.TPM.AdvanceCounterTo(counterIndex(c), v)
}

// storeCounterIndex is the TPM NV index of the counter the secure
// storage binds its generation to.
const storeCounterIndex = counterBase + 0x10

// StoreCounter is the secure storage's counter, a TPM NV counter.
type StoreCounter struct{ TPM *tpm.TPM }

// Define creates the counter on a new TPM.
func (k StoreCounter) Define() error {
	if err := k.TPM.DefineCounter(storeCounterIndex); err != nil {
		return fmt.Errorf("define the secure storage's counter: %w", err)
	}
	return nil
}

// Value implements storage.Counter.
func (k StoreCounter) Value() (uint64, error) { return k.TPM.Counter(storeCounterIndex) }

// AdvanceTo implements storage.Counter.
func (k StoreCounter) AdvanceTo(v uint64) error { return k.TPM.AdvanceCounterTo(storeCounterIndex, v) }

// PCR is the measured-boot PCR in the TPM.
type PCR struct{ TPM *tpm.TPM }

// Extend implements boot.PCR.
func (p PCR) Extend(d []byte) error { return p.TPM.Extend(boot.MeasurementPCR, d) }

// FlashConfig is the flash geometry a layout needs.
func FlashConfig(l boot.Layout) flash.Config {
	return flash.Config{Size: l.Size(), SectorSize: int64(l.SectorSize), WriteAlign: int64(l.WriteAlign)}
}

// IsPowerCut reports whether err comes from a power cut of the flash.
func IsPowerCut(err error) bool { return errors.Is(err, flash.ErrPowerCut) }
