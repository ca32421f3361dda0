package attest

import (
	"crypto/ecdsa"
	"crypto/sha256"
)

// VerifiedEAT is an EAT whose signature verified: its claims and the
// digest of its payload, which the quote must carry.
type VerifiedEAT struct {
	Claims      *Claims
	PayloadHash []byte // SHA-256 of the signed payload
}

// VerifyEAT decodes a signed EAT, checks its signature by pub (the
// registered device's attestation key) and only then decodes its claims.
func VerifyEAT(b []byte, pub *ecdsa.PublicKey) (*VerifiedEAT, error) {
	msg, err := decodeSign1(b)
	if err != nil {
		return nil, err
	}
	if err := verifySign1(msg, pub); err != nil {
		return nil, err
	}
	c, err := decodePayload(msg.Payload)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(msg.Payload)
	return &VerifiedEAT{Claims: c, PayloadHash: h[:]}, nil
}
