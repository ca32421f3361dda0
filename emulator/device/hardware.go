package device

import (
	"errors"
	"fmt"

	"github.com/teeup/teeup/emulator/flash"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/tpm"
)

// counterBase is the first TPM NV index of the per-component NV counters
// that held the anti-rollback values before the rollback indices did; a
// device made then still has them, and their values still count.
const counterBase = 0x01500010

// rollbackBase is the first TPM NV index of the per-component rollback
// indices (secure/tpm): the lowest sequence number each component may run,
// raised in one TPM write to any uint64.
const rollbackBase = 0x01500030

// Counters are the bootloader's anti-rollback values, kept in TPM rollback
// indices, one per component.
type Counters struct{ TPM *tpm.TPM }

func counterIndex(c boot.Component) uint32  { return counterBase + uint32(c) }
func rollbackIndex(c boot.Component) uint32 { return rollbackBase + uint32(c) }

// Define creates the rollback indices on a new TPM.
func (k Counters) Define() error {
	for _, c := range boot.Components {
		if err := k.TPM.DefineRollbackIndex(rollbackIndex(c)); err != nil {
			return fmt.Errorf("define %s rollback index: %w", c, err)
		}
	}
	return nil
}

// Counter implements boot.Counters: the rollback index, and on a device
// made before there were any, the higher of it and the NV counter that
// stood for it (which can only have gone up).
func (k Counters) Counter(c boot.Component) (uint64, error) {
	v, err := k.TPM.RollbackIndex(rollbackIndex(c))
	if err != nil && !errors.Is(err, tpm.ErrIndexUndefined) {
		return 0, err
	}
	old, oerr := k.TPM.Counter(counterIndex(c))
	switch {
	case oerr == nil:
		return max(v, old), nil
	case errors.Is(oerr, tpm.ErrIndexUndefined):
		return v, err
	default:
		return 0, oerr
	}
}

// AdvanceCounterTo implements boot.Counters, in one TPM write whatever the
// distance. On a device made before there were rollback indices it defines
// the component's one first (Counter keeps counting the old counter, so a
// power cut between the two leaves the value where it was).
func (k Counters) AdvanceCounterTo(c boot.Component, v uint64) error {
	cur, err := k.Counter(c)
	if err != nil {
		return err
	}
	if v < cur {
		return fmt.Errorf("advance %s counter from %d to %d: %w", c, cur, v, tpm.ErrBackward)
	}
	s := k.TPM
	if err := s.DefineRollbackIndex(rollbackIndex(c)); err != nil && !errors.Is(err, tpm.ErrIndexExists) {
		return err
	}
	return s.RaiseRollbackIndex(rollbackIndex(c), v)
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
