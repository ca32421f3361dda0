package attest

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
)

// Endorsement is what provisioning registered of one device: its
// identity and the public keys that speak for it. A verifier trusts it.
type Endorsement struct {
	// UEID is the device's ueid.
	UEID []byte
	// OEMID and HWModel are the hardware the device was made as; if set,
	// Appraise checks the claims against them. (The JSON form of an
	// endorsement is attest/comid's.)
	OEMID   []byte
	HWModel []byte
	// AttestationKey verifies the device's EATs.
	AttestationKey *ecdsa.PublicKey
	// TPMKey verifies the quotes of the device's TPM (its restricted
	// attestation key).
	TPMKey *ecdsa.PublicKey
}

// Endorsements are the registered devices.
type Endorsements []Endorsement

// Lookup returns the endorsement of the device ueid, or ErrUnregistered.
func (es Endorsements) Lookup(ueid []byte) (*Endorsement, error) {
	for i := range es {
		if bytes.Equal(es[i].UEID, ueid) {
			return &es[i], nil
		}
	}
	return nil, fmt.Errorf("%w: ueid %x", ErrUnregistered, ueid)
}
