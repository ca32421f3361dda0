package comid

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"fmt"

	"github.com/google/go-tpm/tpm2"
)

// Class is the class of a device (CoMID class-map): the OEM and the model,
// which are the vendor and class IDs its SUIT manifests name and the
// oemid and hwmodel claims of its EATs.
type Class struct {
	OEMID   Hex `json:"oemid"`
	HWModel Hex `json:"hwmodel"`
}

// TPMKey is a TPM attestation key as a verifier registers it (CoMID
// attest-key-triple): its public area (TPMT_PUBLIC as the TPM encodes it)
// and its name.
type TPMKey struct {
	Public Hex `json:"public"`
	Name   Hex `json:"name"`
}

// Endorsement is what provisioning publishes of one device: who it is and
// the keys its evidence is checked with.
type Endorsement struct {
	// Profile is the eat_profile of the device's evidence.
	Profile string `json:"profile"`
	// Class is the device's class (CoMID environment class-map).
	Class Class `json:"class"`
	// UEID is the device's ueid (CoMID environment instance, a ueid).
	UEID Hex `json:"ueid"`
	// HWVersion is the hwversion its evidence claims.
	HWVersion string `json:"hwversion"`
	// AttestationKey is the PKIX PEM of the P-256 key that signs the
	// device's EATs (CoMID identity-triple).
	AttestationKey string `json:"attestation_key"`
	// TPM is the key that signs the device's TPM quotes (CoMID
	// attest-key-triple).
	TPM TPMKey `json:"tpm_attestation_key"`
	// AgentKey is the PKIX PEM of the P-256 key that signs the device's
	// TEEP messages (its RFC 9679 thumbprint is the kid, and the device's
	// ID at a TAM); empty for a device without a TEEP Agent.
	AgentKey string `json:"agent_key,omitempty"`
}

// DecodeEndorsement decodes and checks an endorsement: its keys parse and
// the TPM key is a restricted signing key whose name is its public area's.
func DecodeEndorsement(b []byte) (*Endorsement, error) {
	var e Endorsement
	if err := decode(b, &e); err != nil {
		return nil, err
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return &e, nil
}

// Encode encodes the endorsement, indented for the reader.
func (e *Endorsement) Encode() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return encode(e)
}

// Validate checks the bounds of each field and that both keys parse.
func (e *Endorsement) Validate() error {
	switch {
	case e.Profile == "" || len(e.Profile) > MaxText:
		return fmt.Errorf("%w: endorsement: profile of %d bytes", ErrMalformed, len(e.Profile))
	case len(e.UEID) == 0:
		return fmt.Errorf("%w: endorsement: no ueid", ErrMalformed)
	case len(e.Class.OEMID) == 0 || len(e.Class.HWModel) == 0:
		return fmt.Errorf("%w: endorsement: no oemid or hwmodel", ErrMalformed)
	case e.HWVersion == "" || len(e.HWVersion) > MaxText:
		return fmt.Errorf("%w: endorsement: hwversion of %d bytes", ErrMalformed, len(e.HWVersion))
	}
	if _, err := e.DeviceKey(); err != nil {
		return err
	}
	if e.AgentKey != "" {
		if _, err := e.TEEPAgentKey(); err != nil {
			return err
		}
	}
	_, err := e.TPMKey()
	return err
}

// TEEPAgentKey is the key that signs the device's TEEP messages.
func (e *Endorsement) TEEPAgentKey() (*ecdsa.PublicKey, error) {
	return parseP256PEM("agent key", e.AgentKey)
}

// DeviceKey is the key that signs the device's EATs.
func (e *Endorsement) DeviceKey() (*ecdsa.PublicKey, error) {
	return parseP256PEM("attestation key", e.AttestationKey)
}

// parseP256PEM reads one PEM PUBLIC KEY block of an ECDSA key.
func parseP256PEM(what, text string) (*ecdsa.PublicKey, error) {
	if len(text) > MaxText {
		return nil, fmt.Errorf("%w: %s of %d bytes", ErrMalformed, what, len(text))
	}
	block, rest := pem.Decode([]byte(text))
	if block == nil || block.Type != "PUBLIC KEY" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: %s: want one PEM PUBLIC KEY block", ErrMalformed, what)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s: a %T, want ECDSA", ErrMalformed, what, pub)
	}
	return k, nil
}

// TPMKey is the key that signs the device's TPM quotes, once its name is
// checked against its public area and the area describes what a quote's
// signer must be: a restricted ECDSA signing key, fixed to its TPM, made
// inside it.
func (e *Endorsement) TPMKey() (*ecdsa.PublicKey, error) {
	area, err := tpm2.Unmarshal[tpm2.TPMTPublic](e.TPM.Public)
	if err != nil {
		return nil, fmt.Errorf("%w: TPM key public area: %v", ErrMalformed, err)
	}
	if area.NameAlg != tpm2.TPMAlgSHA256 {
		return nil, fmt.Errorf("%w: TPM key: name algorithm %v, want SHA-256", ErrMalformed, area.NameAlg)
	}
	sum := sha256.Sum256(e.TPM.Public)
	if want := append(binary.BigEndian.AppendUint16(nil, uint16(tpm2.TPMAlgSHA256)), sum[:]...); !bytes.Equal(e.TPM.Name, want) {
		return nil, fmt.Errorf("%w: TPM key: the name is not its public area's", ErrMalformed)
	}
	if a := area.ObjectAttributes; !a.Restricted || !a.SignEncrypt || a.Decrypt || !a.FixedTPM || !a.SensitiveDataOrigin {
		return nil, fmt.Errorf("%w: TPM key: not a restricted signing key made in and fixed to its TPM", ErrMalformed)
	}
	if area.Type != tpm2.TPMAlgECC {
		return nil, fmt.Errorf("%w: TPM key: type %v, want ECC", ErrMalformed, area.Type)
	}
	parms, err := area.Parameters.ECCDetail()
	if err != nil {
		return nil, fmt.Errorf("%w: TPM key: %v", ErrMalformed, err)
	}
	point, err := area.Unique.ECC()
	if err != nil {
		return nil, fmt.Errorf("%w: TPM key: %v", ErrMalformed, err)
	}
	k, err := tpm2.ECDSAPub(parms, point)
	if err != nil {
		return nil, fmt.Errorf("%w: TPM key: %v", ErrMalformed, err)
	}
	return k, nil
}
