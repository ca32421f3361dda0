package device

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/evidence"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/reference"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/world"
)

// The device's identity: the public halves of its own keys, which it
// publishes. The private halves exist only in the sealed secure storage.
const (
	identityDir    = "identity"
	agreementPub   = "agreement.pub.pem"
	attestationPub = "attestation.pub.pem"
	agentPub       = "agent.pub.pem"
	endorsement    = "endorsement.json"
)

// HWVersion is the hardware version emulated devices claim.
const HWVersion = "teeup-emulator-1"

// FactoryReferenceFile holds the reference values of the factory images
// (attest/comid's JSON form), as their author publishes them: what a
// verifier appraises a device that booted them against.
func FactoryReferenceFile(dir string) string { return filepath.Join(dir, "factory-reference.json") }

// publishFactoryReference writes the reference values of the factory
// images, computed from their envelopes as the device computes its claims.
func publishFactoryReference(dir string, policy *keys.Policy, set []boot.Staged) error {
	var rv comid.ReferenceValues
	for _, s := range set {
		if err := reference.Publish(&rv, policy.Keys(), s.Envelope); err != nil {
			return fmt.Errorf("device: factory reference values: %w", err)
		}
	}
	b, err := rv.Encode()
	if err != nil {
		return err
	}
	return os.WriteFile(FactoryReferenceFile(dir), b, 0o644)
}

// EndorsementFile is the device's endorsement (attest/comid's JSON form):
// its identity and ueid, its attestation key, its TPM's attestation key.
// A verifier registers the device with it.
func EndorsementFile(dir string) string { return filepath.Join(dir, identityDir, endorsement) }

// AgreementKeyFile is the device's key-agreement public key: what an
// author encrypts personalization data or firmware for.
func AgreementKeyFile(dir string) string { return filepath.Join(dir, identityDir, agreementPub) }

// AttestationKeyFile is the public key that checks the device's evidence.
func AttestationKeyFile(dir string) string { return filepath.Join(dir, identityDir, attestationPub) }

// AgentKeyFile is the public key of the device's TEEP Agent: what a TAM
// checks its messages with, and whose thumbprint names the device there.
func AgentKeyFile(dir string) string { return filepath.Join(dir, identityDir, agentPub) }

// minStoreBank is the smallest bank Init gives a layout that sets none.
const minStoreBank = 128 << 10

// withStore gives a layout without secure storage two banks of at least
// minStoreBank each.
func withStore(l boot.Layout) boot.Layout {
	if l.StoreSectors == 0 {
		l.StoreSectors = (minStoreBank + l.SectorSize - 1) / l.SectorSize
	}
	return l
}

// formatStore is the factory's step: fresh device keys and the trust
// policy, sealed into a new secure storage, and the keys' public halves
// published in identity/.
func (d *Device) formatStore(policy *keys.Policy) (*storage.Store, error) {
	dk, err := keys.NewDevice(nil)
	if err != nil {
		return nil, err
	}
	counter := StoreCounter{TPM: d.TPM}
	if err := counter.Define(); err != nil {
		return nil, err
	}
	st, err := storage.Format(d.Flash, world.StoreRegion(d.Config.Layout), d.TPM, counter, dk, policy, nil)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(d.Dir, identityDir), 0o755); err != nil {
		return nil, err
	}
	for path, pem := range map[string]func() ([]byte, error){
		AgreementKeyFile(d.Dir): dk.AgreementPublicPEM, AttestationKeyFile(d.Dir): dk.AttestationPublicPEM,
		AgentKeyFile(d.Dir): dk.AgentPublicPEM,
	} {
		b, err := pem()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return nil, err
		}
	}
	e, err := evidence.Endorse(dk, d.TPM, d.Platform().Identity())
	if err != nil {
		return nil, fmt.Errorf("device: endorsement: %w", err)
	}
	b, err := e.Encode()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(EndorsementFile(d.Dir), b, 0o644); err != nil {
		return nil, err
	}
	return st, nil
}

// OpenStore opens the secure storage anew, as the next power-on would:
// for a test or an inspection that must see what is persisted rather
// than what the store the secure world holds has in memory.
func (d *Device) OpenStore() (*storage.Store, error) {
	return storage.Open(d.Flash, world.StoreRegion(d.Config.Layout), d.TPM, StoreCounter{TPM: d.TPM})
}
