package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// Endorsement is what provisioning registered of one device: its
// identity and the public keys that speak for it. A verifier trusts it.
type Endorsement struct {
	// UEID is the device's ueid.
	UEID []byte
	// OEMID and HWModel are the hardware the device was made as.
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

// endorsementJSON is an endorsement as provisioning exports it. It maps
// onto a CoMID: the ueid is the environment's instance-id (a ueid), oemid
// and hwmodel its class vendor and model, and the two keys
// attest-key triples (conditional-endorsement keys) of that environment.
type endorsementJSON struct {
	UEID           HexBytes `json:"ueid"`
	OEMID          HexBytes `json:"oemid"`
	HWModel        string   `json:"hwmodel"`
	AttestationKey string   `json:"attestation_key"` // PEM SubjectPublicKeyInfo
	TPMKey         string   `json:"tpm_attestation_key"`
}

// ParseEndorsements decodes the JSON form of registered devices:
// {"devices": [{"ueid", "oemid", "hwmodel", "attestation_key",
// "tpm_attestation_key"}]}, keys in PEM, strictly and within
// MaxEndorsements bytes.
func ParseEndorsements(b []byte) (Endorsements, error) {
	var doc struct {
		Devices []endorsementJSON `json:"devices"`
	}
	if err := decodeJSON(b, MaxEndorsements, &doc); err != nil {
		return nil, fmt.Errorf("attest: endorsements: %w", err)
	}
	var es Endorsements
	for i, d := range doc.Devices {
		ak, err := parseP256PEM(d.AttestationKey)
		if err != nil {
			return nil, fmt.Errorf("attest: endorsement %d: attestation key: %w", i, err)
		}
		tk, err := parseP256PEM(d.TPMKey)
		if err != nil {
			return nil, fmt.Errorf("attest: endorsement %d: TPM key: %w", i, err)
		}
		if len(d.UEID) < MinUEID || len(d.UEID) > MaxUEID {
			return nil, fmt.Errorf("attest: endorsement %d: ueid of %d bytes", i, len(d.UEID))
		}
		if _, err := es.Lookup(d.UEID); err == nil {
			return nil, fmt.Errorf("attest: endorsement %d: ueid %x registered twice", i, d.UEID)
		}
		es = append(es, Endorsement{UEID: d.UEID, OEMID: d.OEMID, HWModel: []byte(d.HWModel), AttestationKey: ak, TPMKey: tk})
	}
	return es, nil
}

// MarshalEndorsements writes endorsements in the JSON form
// ParseEndorsements reads.
func MarshalEndorsements(es Endorsements) ([]byte, error) {
	var doc struct {
		Devices []endorsementJSON `json:"devices"`
	}
	for _, e := range es {
		ak, err := publicPEM(e.AttestationKey)
		if err != nil {
			return nil, err
		}
		tk, err := publicPEM(e.TPMKey)
		if err != nil {
			return nil, err
		}
		doc.Devices = append(doc.Devices, endorsementJSON{UEID: e.UEID, OEMID: e.OEMID, HWModel: string(e.HWModel), AttestationKey: ak, TPMKey: tk})
	}
	return jsonIndent(doc)
}

func parseP256PEM(s string) (*ecdsa.PublicKey, error) {
	blk, _ := pem.Decode([]byte(s))
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("not a PEM public key")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	ec, ok := k.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("a %T, want ECDSA P-256", k)
	}
	return ec, nil
}

func publicPEM(k *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}
