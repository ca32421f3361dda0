package boot

import (
	"errors"
	"fmt"

	"github.com/teeup/teeup/secure/keys"
)

// Config is what the bootloader is built with.
type Config struct {
	Layout Layout
	Policy *keys.Policy
	// VendorID and ClassID are the device's identity for the manifests'
	// vendor and class conditions; nil matches any.
	VendorID, ClassID []byte
	// MaxTrialBoots is how many boots a trial gets before it is reverted
	// unconfirmed; 0 means 1 (revert at the first reset after the trial boot).
	MaxTrialBoots int
}

// Device is the bootloader's view of the device: the flash it owns, the
// counters and the PCR. A Device is not safe for concurrent use; on a
// device one bootloader runs at a time.
type Device struct {
	flash    Flash
	counters Counters
	pcr      PCR
	layout   Layout
	cfg      Config
	running  []*Image // what the last Boot booted
	events   EventLog // and how it was measured
}

// Errors of the bootloader's own.
var (
	// ErrNoBootableImage: no verified image pair can be booted.
	ErrNoBootableImage = errors.New("boot: no verified image to boot")
	// ErrBusy: an install set is already staged or in trial.
	ErrBusy = errors.New("boot: an install set is in progress")
	// ErrNoTrial: accept or reject with no trial running.
	ErrNoTrial = errors.New("boot: no trial to accept or reject")
)

// New makes a bootloader over flash, counters and pcr.
func New(flash Flash, counters Counters, pcr PCR, cfg Config) (*Device, error) {
	if err := cfg.Layout.Validate(); err != nil {
		return nil, err
	}
	if cfg.Policy == nil {
		return nil, errors.New("boot: no key policy")
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxTrialBoots <= 0 {
		cfg.MaxTrialBoots = 1
	}
	if need := cfg.Layout.journalNeed(); need*recordSize > cfg.Layout.SectorSize {
		return nil, fmt.Errorf("boot: a journal sector of %d bytes cannot hold the %d records a %d-sector swap and revert need",
			cfg.Layout.SectorSize, need, cfg.Layout.SlotSectors)
	}
	return &Device{flash: flash, counters: counters, pcr: pcr, layout: cfg.Layout, cfg: cfg}, nil
}

// Layout returns the partition table.
func (d *Device) Layout() Layout { return d.layout }
