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
	// Agent is the P-256 key the device's TEEP Agent signs its messages
	// with (ESP256); nil on a device made before the Agent, which then
	// has none.
	Agent *ecdsa.PrivateKey
}

// ErrDeviceKeys is returned for stored device keys that are malformed.
var ErrDeviceKeys = errors.New("keys: malformed device keys")

// The encoding: the P-256 private scalars of the agreement, attestation
// and Agent keys, in that order; a device made before the Agent has the
// first two only.
const (
	scalarSize          = 32
	deviceKeysSizeNoAgt = 2 * scalarSize
	deviceKeysSize      = 3 * scalarSize
)

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
	agent, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, err
	}
	return &Device{Agreement: agreement, Attestation: attestation, Agent: agent}, nil
}

// MarshalBinary encodes the private keys, for sealed storage only.
func (d *Device) MarshalBinary() ([]byte, error) {
	att, err := d.Attestation.Bytes()
	if err != nil {
		return nil, err
	}
	b := append(d.Agreement.Bytes(), att...)
	if d.Agent == nil {
		return b, nil
	}
	agt, err := d.Agent.Bytes()
	if err != nil {
		return nil, err
	}
	return append(b, agt...), nil
}

// UnmarshalDevice decodes what MarshalBinary made.
func UnmarshalDevice(b []byte) (*Device, error) {
	if len(b) != deviceKeysSize && len(b) != deviceKeysSizeNoAgt {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrDeviceKeys, len(b), deviceKeysSize)
	}
	agreement, err := ecdh.P256().NewPrivateKey(b[:scalarSize])
	if err != nil {
		return nil, fmt.Errorf("%w: agreement key: %w", ErrDeviceKeys, err)
	}
	attestation, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b[scalarSize:2*scalarSize])
	if err != nil {
		return nil, fmt.Errorf("%w: attestation key: %w", ErrDeviceKeys, err)
	}
	d := &Device{Agreement: agreement, Attestation: attestation}
	if len(b) == deviceKeysSize {
		if d.Agent, err = ecdsa.ParseRawPrivateKey(elliptic.P256(), b[2*scalarSize:]); err != nil {
			return nil, fmt.Errorf("%w: agent key: %w", ErrDeviceKeys, err)
		}
	}
	return d, nil
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

// AgentPublicPEM is the public key a TAM checks the device's TEEP Agent
// with (PKIX PEM); ErrNoAgentKey on a device without one.
func (d *Device) AgentPublicPEM() ([]byte, error) {
	if d.Agent == nil {
		return nil, ErrNoAgentKey
	}
	return publicPEM(&d.Agent.PublicKey)
}

// AgentSigningKey is the TEEP Agent's signing key (ESP256);
// ErrNoAgentKey on a device without one.
func (d *Device) AgentSigningKey() (*suit.SigningKey, error) {
	if d.Agent == nil {
		return nil, ErrNoAgentKey
	}
	return suit.NewSigningKey(suit.AlgESP256, d.Agent)
}

// ErrNoAgentKey: the device was made before it had a TEEP Agent key.
var ErrNoAgentKey = errors.New("keys: the device has no TEEP Agent key")

func publicPEM(pub any) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
