package evidence

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
)

// ueidRand is the RAND type byte of a UEID (RFC 9711 section 4.2.1.1).
const ueidRand = 0x01

// ueidLabel separates this use of the key's hash from any other.
const ueidLabel = "teeup ueid v1\x00"

// UEID is the device's ueid: of type RAND, 32 bytes derived from its
// attestation public key. The key was generated at random in the factory
// and is sealed in the device's storage for its life, so the ueid is a
// random number fixed once per device (as RAND asks) that the secure world
// can recompute at every power-on without storing another secret, and a
// device with a new key (a new storage) has a new ueid.
func UEID(attestation *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(attestation)
	if err != nil {
		return nil, fmt.Errorf("ueid: %w", err)
	}
	sum := sha256.Sum256(append([]byte(ueidLabel), der...))
	return append([]byte{ueidRand}, sum[:]...), nil
}
