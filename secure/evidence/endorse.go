package evidence

import (
	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/secure/keys"
)

// AttestationKeyPublisher is the TPM as provisioning needs it: the public
// area and name of its attestation key (which this call creates the first
// time: it is derived from the TPM's endorsement seed).
type AttestationKeyPublisher interface {
	AttestationKeyPublic() (public, name []byte, err error)
}

// Endorse is the device's endorsement, which the factory publishes and a
// verifier registers: its identity and ueid as its evidence will claim
// them, the public key of its attestation key, and its TPM's attestation
// key.
func Endorse(dk *keys.Device, tpm AttestationKeyPublisher, id Identity) (*comid.Endorsement, error) {
	ueid, err := UEID(&dk.Attestation.PublicKey)
	if err != nil {
		return nil, err
	}
	pem, err := dk.AttestationPublicPEM()
	if err != nil {
		return nil, err
	}
	public, name, err := tpm.AttestationKeyPublic()
	if err != nil {
		return nil, err
	}
	e := &comid.Endorsement{Profile: attest.Profile, Class: comid.Class{OEMID: id.OEMID, HWModel: id.HWModel},
		UEID: ueid, HWVersion: id.HWVersion, AttestationKey: string(pem), TPM: comid.TPMKey{Public: public, Name: name}}
	if dk.Agent != nil {
		agent, err := dk.AgentPublicPEM()
		if err != nil {
			return nil, err
		}
		e.AgentKey = string(agent)
	}
	return e, e.Validate()
}
