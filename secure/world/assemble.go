package world

import (
	"errors"
	"fmt"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/evidence"
	"github.com/teeup/teeup/secure/fwu"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/service"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/ta"
	"github.com/teeup/teeup/secure/teep"
)

// Hardware is what the secure world alone touches: the flash (the
// bootloader's slots and the secure storage's banks) and the TPM (the
// anti-rollback counters, the measured-boot PCR, the sealing of the
// storage's root key and the storage's counter).
type Hardware struct {
	Flash        boot.Flash
	Counters     boot.Counters
	PCR          boot.PCR
	Sealer       storage.Sealer
	StoreCounter storage.Counter
	// Attester quotes the measurement PCR with the TPM's attestation key
	// and reads its boot count, for the device's evidence; nil: the
	// device produces none.
	Attester evidence.Quoter
}

// Platform is what the secure world knows of its device: where things are
// in flash, which vendor and class of device it is, and the version of
// its hardware (which its evidence claims).
type Platform struct {
	Layout            boot.Layout
	VendorID, ClassID []byte
	HWVersion         string
}

// Identity is what the device's evidence says it is.
func (p Platform) Identity() evidence.Identity {
	return evidence.Identity{OEMID: p.VendorID, HWModel: p.ClassID, HWVersion: p.HWVersion}
}

// StoreRegion is where a layout keeps the secure storage.
func StoreRegion(l boot.Layout) storage.Region {
	return storage.Region{Off: l.StoreOff(), BankSectors: l.StoreSectors, SectorSize: l.SectorSize, WriteAlign: l.WriteAlign}
}

// Secure is the secure world of one power-on: its secure storage, opened
// once (the root key unsealed by the TPM), the trust policy read from
// it, and the bootloader that trusts that policy. A power cycle makes a
// new one.
type Secure struct {
	Boot     *boot.Device
	Store    *storage.Store
	Policy   *keys.Policy
	hardware Hardware
	platform Platform
}

// Assemble opens the secure storage on hw and builds the secure world
// over it. A storage that does not authenticate (tampered, or written
// back from an earlier copy) is refused with storage's error
// (storage.ErrTampered, storage.ErrStale, storage.ErrNoStore).
func Assemble(hw Hardware, p Platform) (*Secure, error) {
	st, err := storage.Open(hw.Flash, StoreRegion(p.Layout), hw.Sealer, hw.StoreCounter)
	if err != nil {
		return nil, fmt.Errorf("secure storage: %w", err)
	}
	return New(hw, p, st)
}

// New builds the secure world over an open secure storage (the factory's,
// just formatted, or the one Assemble opened).
func New(hw Hardware, p Platform, st *storage.Store) (*Secure, error) {
	policy, err := st.Policy()
	if err != nil {
		return nil, fmt.Errorf("secure storage: %w", err)
	}
	b, err := boot.New(hw.Flash, hw.Counters, hw.PCR,
		boot.Config{Layout: p.Layout, Policy: policy, VendorID: p.VendorID, ClassID: p.ClassID})
	if err != nil {
		return nil, err
	}
	return &Secure{Boot: b, Store: st, Policy: policy, hardware: hw, platform: p}, nil
}

// Service is the update service over this world's bootloader, trust
// policy and secure storage (the device keys that decrypt payloads, and
// the TA store), with the real clock and the default bounds.
func (s *Secure) Service() (*fwu.Service, error) { return s.ServiceWith(fwu.Config{}) }

// ServiceWith is Service configured by cfg (a test's clock and bounds).
func (s *Secure) ServiceWith(cfg fwu.Config) (*fwu.Service, error) {
	dk, err := s.Store.DeviceKeys()
	if err != nil {
		return nil, fmt.Errorf("secure storage: %w", err)
	}
	vendor, class := s.Boot.Identity()
	installer := &ta.Installer{Store: s.Store, Keys: dk.KeySource(), Authorizer: s.Policy,
		Identity: ta.Identity{VendorID: vendor, ClassID: class}}
	return fwu.New(s.Boot, s.Policy, dk.KeySource(), installer, cfg), nil
}

// Evidence is what attests this world to a verifier: its boot, TA store,
// policy, device keys, TPM and identity; nil when its hardware has no
// attester.
func (s *Secure) Evidence() (*evidence.Source, error) {
	if s.hardware.Attester == nil {
		return nil, nil
	}
	dk, err := s.Store.DeviceKeys()
	if err != nil {
		return nil, fmt.Errorf("secure storage: %w", err)
	}
	return &evidence.Source{Boot: s.Boot, Store: s.Store, Policy: s.Policy, Keys: dk,
		TPM: s.hardware.Attester, Identity: s.platform.Identity()}, nil
}

// Agent is this world's TEEP Agent over the update service svc and the
// evidence ev: it signs with the device's Agent key and answers the TAMs
// its sealed policy trusts. nil when the device has none: it trusts no
// TAM, was made before it had an Agent key, or produces no evidence.
func (s *Secure) Agent(svc *fwu.Service, ev *evidence.Source) (*teep.Agent, error) {
	if len(s.Policy.TAMs) == 0 || ev == nil {
		return nil, nil
	}
	dk, err := s.Store.DeviceKeys()
	if err != nil {
		return nil, fmt.Errorf("secure storage: %w", err)
	}
	key, err := dk.AgentSigningKey()
	if errors.Is(err, keys.ErrNoAgentKey) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return teep.NewAgent(teep.AgentConfig{Key: key, TAMKeys: s.Policy.TAMs, Attester: service.Attester{Source: ev},
		TCs: &service.TrustedComponents{FWU: svc}})
}
