package device

import (
	"os"
	"path/filepath"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/fwu"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/storage"
)

// The device's identity: the public halves of its own keys, which it
// publishes. The private halves exist only in the sealed secure storage.
const (
	identityDir    = "identity"
	agreementPub   = "agreement.pub.pem"
	attestationPub = "attestation.pub.pem"
)

// AgreementKeyFile is the device's key-agreement public key: what an
// author encrypts personalization data or firmware for.
func AgreementKeyFile(dir string) string { return filepath.Join(dir, identityDir, agreementPub) }

// AttestationKeyFile is the public key that checks the device's evidence.
func AttestationKeyFile(dir string) string { return filepath.Join(dir, identityDir, attestationPub) }

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

// StoreRegion is where a layout keeps the secure storage.
func StoreRegion(l boot.Layout) storage.Region {
	return storage.Region{Off: l.StoreOff(), BankSectors: l.StoreSectors, SectorSize: l.SectorSize, WriteAlign: l.WriteAlign}
}

// OpenStore opens the secure storage: its root key unsealed by the TPM.
// It is for the secure world only.
func (d *Device) OpenStore() (*storage.Store, error) {
	return storage.Open(d.Flash, StoreRegion(d.Config.Layout), d.TPM, StoreCounter{TPM: d.TPM})
}

// formatStore is the factory's step: fresh device keys and the trust
// policy, sealed into a new secure storage, and the keys' public halves
// published in identity/.
func (d *Device) formatStore(policy *keys.Policy) error {
	dk, err := keys.NewDevice(nil)
	if err != nil {
		return err
	}
	counter := StoreCounter{TPM: d.TPM}
	if err := counter.Define(); err != nil {
		return err
	}
	if _, err := storage.Format(d.Flash, StoreRegion(d.Config.Layout), d.TPM, counter, dk, policy, nil); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(d.Dir, identityDir), 0o755); err != nil {
		return err
	}
	for path, pem := range map[string]func() ([]byte, error){
		AgreementKeyFile(d.Dir): dk.AgreementPublicPEM, AttestationKeyFile(d.Dir): dk.AttestationPublicPEM,
	} {
		b, err := pem()
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// UpdateService is the secure world's update service over this device:
// its bootloader, its sealed trust policy, and its secure storage for the
// device keys and the TA store.
func (d *Device) UpdateService() (*fwu.Service, error) {
	svc := fwu.New(d.Boot, d.Policy)
	st, err := d.OpenStore()
	if err != nil {
		return nil, err
	}
	if err := svc.AttachStore(st); err != nil {
		return nil, err
	}
	return svc, nil
}
