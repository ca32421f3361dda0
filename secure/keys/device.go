package keys

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"github.com/teeup/teeup/secure/suit"
)

// Device holds the device's own private keys. They exist in the clear only
// in the secure world's memory: at rest they are sealed (secure/storage)
// and they never cross ipc. Only their public halves leave the device.
type Device struct {
	// Agreement is the P-256 key-agreement key that authors encrypt
	// personalization data and firmware for (ECDH-ES+A128KW).
	Agreement *ecdh.PrivateKey
	// Attestation is the P-256 signing key of the device's evidence.
	Attestation *ecdsa.PrivateKey
}

// ErrDeviceKeys is returned for stored device keys that are malformed.
var ErrDeviceKeys = errors.New("keys: malformed device keys")

// deviceKeysSize is the encoding: two P-256 private scalars.
const deviceKeysSize = 64

// NewDevice makes fresh device keys from rand (crypto/rand when nil).
func NewDevice(rand io.Reader) (*Device, error) {
	agreement, err := ecdh.P256().GenerateKey(rand)
	if err != nil {
		return nil, err
	}
	attestation, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, err
	}
	return &Device{Agreement: agreement, Attestation: attestation}, nil
}

// MarshalBinary encodes the private keys, for sealed storage only.
func (d *Device) MarshalBinary() ([]byte, error) {
	att, err := d.Attestation.Bytes()
	if err != nil {
		return nil, err
	}
	return append(d.Agreement.Bytes(), att...), nil
}

// UnmarshalDevice decodes what MarshalBinary made.
func UnmarshalDevice(b []byte) (*Device, error) {
	if len(b) != deviceKeysSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrDeviceKeys, len(b), deviceKeysSize)
	}
	agreement, err := ecdh.P256().NewPrivateKey(b[:32])
	if err != nil {
		return nil, fmt.Errorf("%w: agreement key: %w", ErrDeviceKeys, err)
	}
	attestation, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b[32:])
	if err != nil {
		return nil, fmt.Errorf("%w: attestation key: %w", ErrDeviceKeys, err)
	}
	return &Device{Agreement: agreement, Attestation: attestation}, nil
}

// KeySource is what decrypts payloads addressed to this device.
func (d *Device) KeySource() suit.KeySource {
	return &suit.DeviceKeys{AgreementKey: d.Agreement}
}

// AgreementPublicPEM is the public key authors encrypt for (PKIX PEM).
func (d *Device) AgreementPublicPEM() ([]byte, error) {
	return publicPEM(d.Agreement.PublicKey())
}

// AttestationPublicPEM is the public key a verifier checks evidence with.
func (d *Device) AttestationPublicPEM() ([]byte, error) {
	return publicPEM(&d.Attestation.PublicKey)
}

func publicPEM(pub any) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
