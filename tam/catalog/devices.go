package catalog

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
)

// NewDevice is a device to register.
type NewDevice struct {
	// Name is for people; empty gives the ID's first 12 digits.
	Name string
	// Endorsement is the device's endorsement (attest/comid JSON) with its
	// TEEP Agent key.
	Endorsement []byte
	// Reference is the reference values of its factory images (attest/comid
	// JSON); nil when none.
	Reference []byte
	// AgreementKeyPEM is its P-256 key-agreement public key, which
	// personalization data is encrypted to; nil when none.
	AgreementKeyPEM []byte
}

// DeviceID is the ID of the device whose TEEP Agent key this is: the
// lowercase hex of its RFC 9679 thumbprint, the kid of its messages.
func DeviceID(agentKey any) (string, error) {
	kid, err := teep.Thumbprint(agentKey)
	if err != nil {
		return "", fmt.Errorf("%w: agent key: %v", ErrInvalid, err)
	}
	return hex.EncodeToString(kid), nil
}

// AddDevice registers a device from its endorsement.
func (c *Catalog) AddDevice(ctx context.Context, n NewDevice) (store.Device, error) {
	e, err := comid.DecodeEndorsement(n.Endorsement)
	if err != nil {
		return store.Device{}, fmt.Errorf("%w: endorsement: %w", ErrInvalid, err)
	}
	if e.AgentKey == "" {
		return store.Device{}, fmt.Errorf("%w: the endorsement has no agent_key: the device has no TEEP Agent", ErrInvalid)
	}
	agent, err := e.TEEPAgentKey()
	if err != nil {
		return store.Device{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	id, err := DeviceID(agent)
	if err != nil {
		return store.Device{}, err
	}
	agentDER, err := x509.MarshalPKIXPublicKey(agent)
	if err != nil {
		return store.Device{}, fmt.Errorf("%w: agent key: %v", ErrInvalid, err)
	}
	if n.Reference != nil {
		if _, err := comid.DecodeReferenceValues(n.Reference); err != nil {
			return store.Device{}, fmt.Errorf("%w: reference values: %w", ErrInvalid, err)
		}
	}
	var agreementDER []byte
	if n.AgreementKeyPEM != nil {
		if agreementDER, err = agreementKeyDER(n.AgreementKeyPEM); err != nil {
			return store.Device{}, err
		}
	}
	name := n.Name
	if name == "" {
		name = id[:12]
	}
	if err := checkName(name); err != nil {
		return store.Device{}, err
	}
	d := store.Device{ID: id, Name: name, AgentKey: agentDER, AgreementKey: agreementDER,
		Endorsement: bytes.Clone(n.Endorsement), Reference: bytes.Clone(n.Reference), Registered: c.now()}
	if err := c.st.AddDevice(ctx, d); err != nil {
		return store.Device{}, storeErr(err)
	}
	c.notify(id)
	return d, nil
}

// agreementKeyDER checks a PEM P-256 public key usable for ECDH and
// returns its PKIX DER.
func agreementKeyDER(text []byte) ([]byte, error) {
	if len(text) > MaxKeyPEM {
		return nil, fmt.Errorf("%w: agreement key of %d bytes", ErrTooLarge, len(text))
	}
	block, rest := pem.Decode(text)
	if block == nil || block.Type != "PUBLIC KEY" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: agreement key: want one PEM PUBLIC KEY block", ErrInvalid)
	}
	if _, err := parseAgreementKey(block.Bytes); err != nil {
		return nil, err
	}
	return block.Bytes, nil
}

// parseAgreementKey reads a PKIX DER P-256 key as an ECDH key.
func parseAgreementKey(der []byte) (*ecdh.PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: agreement key: %v", ErrInvalid, err)
	}
	var k *ecdh.PublicKey
	switch p := pub.(type) {
	case *ecdh.PublicKey:
		k = p
	case interface {
		ECDH() (*ecdh.PublicKey, error)
	}:
		if k, err = p.ECDH(); err != nil {
			return nil, fmt.Errorf("%w: agreement key: %v", ErrInvalid, err)
		}
	default:
		return nil, fmt.Errorf("%w: agreement key: a %T, want P-256", ErrInvalid, pub)
	}
	if k.Curve() != ecdh.P256() {
		return nil, fmt.Errorf("%w: agreement key: want P-256", ErrInvalid)
	}
	return k, nil
}

// device is a registered device, or ErrUnknownDevice.
func (c *Catalog) device(ctx context.Context, id string) (store.Device, error) {
	d, err := c.st.Device(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Device{}, fmt.Errorf("%w: %q", ErrUnknownDevice, id)
	}
	return d, err
}
