package device

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
)

// OwnKeys are a user's own keys for a new device, in place of generated
// development keys: the firmware author's and the device operator's
// signing keys, which sign the factory images as a factory would, and the
// TA authors' public keys by author name, each trusted for the TAs under
// ['TA', name] only. No private key of theirs is written into the device.
type OwnKeys struct {
	Author, Operator *suit.SigningKey
	TAAuthors        map[string]*suit.Key
}

// policy is the trust policy of a device that trusts these keys.
func (o *OwnKeys) policy() (*keys.Policy, error) {
	pub, err := o.public()
	if err != nil {
		return nil, err
	}
	return PolicyFor(pub), nil
}

// public lists the public keys by anchor name.
func (o *OwnKeys) public() (map[string]*suit.Key, error) {
	pub := map[string]*suit.Key{}
	var err error
	if pub[authorName], err = o.Author.Public(); err != nil {
		return nil, err
	}
	if pub[operatorName], err = o.Operator.Public(); err != nil {
		return nil, err
	}
	for name, k := range o.TAAuthors {
		pub[taAuthorPrefix+name] = k
	}
	return pub, nil
}

// ErrTAMKey: a TAM key the TEEP Agent cannot check messages with.
var ErrTAMKey = errors.New("device: a TAM key must be a P-256 or Ed25519 public key")

// teepKey refuses a TAM key of a kind TEEP's signatures (ES256/ESP256,
// EdDSA/Ed25519) cannot use.
func teepKey(k *suit.Key) error {
	switch pub := k.Public.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve == elliptic.P256() {
			return nil
		}
	case ed25519.PublicKey:
		return nil
	}
	return fmt.Errorf("%w: a %T", ErrTAMKey, k.Public)
}

// saveTAMKeys writes copies of the TAM keys the device trusts into
// dir/trust, as tam-1.pub.pem, tam-2.pub.pem...: for the reader; the
// device uses the sealed ones.
func saveTAMKeys(dir string, tams []*suit.Key) error {
	for i, k := range tams {
		der, err := x509.MarshalPKIXPublicKey(k.Public)
		if err != nil {
			return err
		}
		b := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		if err := os.WriteFile(filepath.Join(dir, trustDir, fmt.Sprintf("tam-%d.pub.pem", i+1)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// savePublic writes the public copies into dir/trust, as save does for
// development keys.
func (o *OwnKeys) savePublic(dir string) error {
	pub, err := o.public()
	if err != nil {
		return err
	}
	for name, k := range pub {
		der, err := x509.MarshalPKIXPublicKey(k.Public)
		if err != nil {
			return err
		}
		b := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		if err := os.WriteFile(filepath.Join(dir, trustDir, name+".pub.pem"), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
