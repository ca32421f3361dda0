package attest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/veraison/go-cose"
)

// The EAT is a COSE_Sign1 (tag 18) signed with ES256 (-7): ECDSA P-256
// with SHA-256. RFC 9864 deprecates ES256 for the fully specified ESP256
// (-9), which means the same but names the curve; go-cose v1.3.0 does not
// know -9, so we sign ES256 and the verifier accepts only ES256 with a
// P-256 key, which is what ESP256 would pin.
const eatAlgorithm = cose.AlgorithmES256

// SignedEAT is an EAT signed by the device's attestation key.
type SignedEAT struct {
	// COSE is the COSE_Sign1 message, tagged.
	COSE []byte
	// Payload is its payload: the EAT's claims set.
	Payload []byte
}

// QuoteData is what the TPM quote must carry as its qualifying data
// (extraData) to bind it to this EAT: SHA-256 of the EAT's signed
// payload.
func (s *SignedEAT) QuoteData() []byte {
	d := sha256.Sum256(s.Payload)
	return d[:]
}

// SignClaims encodes claims as our EAT profile says and signs them with
// key, the device's P-256 attestation key.
func SignClaims(c *Claims, key crypto.Signer) (*SignedEAT, error) {
	pub, ok := key.Public().(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("attest: the attestation key is %T, want ECDSA P-256", key.Public())
	}
	payload, err := encodePayload(c)
	if err != nil {
		return nil, err
	}
	signer, err := cose.NewSigner(eatAlgorithm, key)
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	msg := cose.NewSign1Message()
	msg.Headers.Protected.SetAlgorithm(eatAlgorithm)
	msg.Payload = payload
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		return nil, fmt.Errorf("attest: sign EAT: %w", err)
	}
	b, err := msg.MarshalCBOR()
	if err != nil {
		return nil, fmt.Errorf("attest: encode EAT: %w", err)
	}
	return &SignedEAT{COSE: b, Payload: payload}, nil
}

// decodeSign1 decodes a COSE_Sign1 (tagged or not) of at most MaxEAT
// bytes. Nothing is verified.
func decodeSign1(b []byte) (*cose.Sign1Message, error) {
	if len(b) > MaxEAT {
		return nil, fmt.Errorf("%w: EAT of %d bytes, limit %d", ErrMalformed, len(b), MaxEAT)
	}
	var msg cose.Sign1Message
	if err := msg.UnmarshalCBOR(b); err != nil {
		var untagged cose.UntaggedSign1Message
		if err2 := untagged.UnmarshalCBOR(b); err2 != nil {
			return nil, fmt.Errorf("%w: COSE_Sign1: %w", ErrMalformed, err)
		}
		msg = cose.Sign1Message(untagged)
	}
	return &msg, nil
}

// verifySign1 checks msg's signature by pub, with the algorithm pinned to
// ES256 and pub to P-256.
func verifySign1(msg *cose.Sign1Message, pub *ecdsa.PublicKey) error {
	alg, err := msg.Headers.Protected.Algorithm()
	if err != nil || alg != eatAlgorithm {
		return fmt.Errorf("%w: algorithm %v, want %v", ErrSignature, alg, eatAlgorithm)
	}
	if pub == nil || pub.Curve != elliptic.P256() {
		return fmt.Errorf("%w: the registered attestation key is not P-256", ErrSignature)
	}
	v, err := cose.NewVerifier(eatAlgorithm, pub)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	if err := msg.Verify(nil, v); err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return nil
}
