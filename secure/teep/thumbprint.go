package teep

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"fmt"
)

// COSE_Key parameters and values (RFC 9052, 9053).
const (
	coseKeyKty = 1
	coseKeyCrv = -1
	coseKeyX   = -2
	coseKeyY   = -3

	coseKtyOKP = 1
	coseKtyEC2 = 2

	coseCrvP256    = 1
	coseCrvP384    = 2
	coseCrvEd25519 = 6
)

// Thumbprint is the RFC 9679 COSE_Key thumbprint of pub with SHA-256: the
// hash of the deterministic CBOR encoding of the key's required members
// only (EC2: kty, crv, x, y; OKP: kty, crv, x). TEEP uses it as the kid.
func Thumbprint(pub crypto.PublicKey) ([]byte, error) {
	var members map[int64]any
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		crv := map[elliptic.Curve]int64{elliptic.P256(): coseCrvP256, elliptic.P384(): coseCrvP384}[k.Curve]
		if crv == 0 {
			return nil, fmt.Errorf("%w: curve %s", ErrAlgorithm, k.Curve.Params().Name)
		}
		e, err := k.ECDH()
		if err != nil {
			return nil, err
		}
		point := e.Bytes() // 0x04 || x || y, each of the curve's size
		size := (len(point) - 1) / 2
		members = map[int64]any{coseKeyKty: coseKtyEC2, coseKeyCrv: crv,
			coseKeyX: point[1 : 1+size], coseKeyY: point[1+size:]}
	case ed25519.PublicKey:
		members = map[int64]any{coseKeyKty: coseKtyOKP, coseKeyCrv: coseCrvEd25519, coseKeyX: []byte(k)}
	default:
		return nil, fmt.Errorf("%w: key of type %T", ErrAlgorithm, pub)
	}
	b, err := encMode.Marshal(members)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}
