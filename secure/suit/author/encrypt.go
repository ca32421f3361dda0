package author

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/teeup/teeup/secure/suit"
)

// cekSize is the content-encryption key size of A128GCM and A128CTR.
const cekSize = 16

// gcmTagSize is the tag that A128GCM appends to the ciphertext.
const gcmTagSize = 16

// EncryptSpec says how an author (or a distribution system) encrypts a
// payload for its recipients (draft-ietf-suit-firmware-encryption §5-6).
// Exactly one of KEK and RecipientKey is set.
type EncryptSpec struct {
	// Alg is suit.AlgA128GCM (the default) or suit.AlgA128CTR. A128CTR
	// has no integrity: the manifest must then check the plaintext's digest.
	Alg int64
	// KEK is a 16-byte pre-shared key-encryption key (A128KW).
	KEK []byte
	// RecipientKey is the device's P-256 public key (ECDH-ES+A128KW).
	RecipientKey *ecdh.PublicKey
	// KID names the KEK or the recipient key in the COSE_recipient.
	KID []byte
	// Rand supplies the content key and the IV; nil means crypto/rand.
	// (The ECDH-ES ephemeral key always comes from crypto/ecdh's own
	// source.)
	Rand io.Reader
}

// EncryptPayload encrypts plaintext under a fresh content key, wraps that
// key for the spec's recipient, and returns the detached ciphertext (with
// the GCM tag appended) and the encoded SUIT_Encryption_Info, which
// suit.NewDecryptWriter opens with the recipient's key.
func EncryptPayload(plaintext []byte, spec EncryptSpec) (ciphertext, encInfo []byte, err error) {
	alg := spec.Alg
	if alg == 0 {
		alg = suit.AlgA128GCM
	}
	random := spec.Rand
	if random == nil {
		random = rand.Reader
	}
	if (spec.KEK == nil) == (spec.RecipientKey == nil) {
		return nil, nil, errors.New("encrypt: need exactly one of a KEK and a recipient key")
	}
	if uint64(len(plaintext)) > suit.MaxEncryptedPayloadSize-gcmTagSize {
		return nil, nil, fmt.Errorf("encrypt: payload of %d bytes is too large", len(plaintext))
	}
	cek := make([]byte, cekSize)
	defer clear(cek)
	if _, err := io.ReadFull(random, cek); err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, nil, err
	}
	info := &suit.EncryptionInfo{Alg: alg}
	switch alg {
	case suit.AlgA128GCM:
		info.IV = make([]byte, 12)
		if _, err := io.ReadFull(random, info.IV); err != nil {
			return nil, nil, err
		}
		info.Protected = algHeader(alg)
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, nil, err
		}
		ciphertext = aead.Seal(nil, info.IV, plaintext, suit.EncStructure(info.Protected))
	case suit.AlgA128CTR:
		info.IV = make([]byte, 16)
		if _, err := io.ReadFull(random, info.IV); err != nil {
			return nil, nil, err
		}
		ciphertext = make([]byte, len(plaintext))
		cipher.NewCTR(block, info.IV).XORKeyStream(ciphertext, plaintext)
	default:
		return nil, nil, fmt.Errorf("encrypt: %w: content encryption algorithm %d", suit.ErrUnsupportedAlgorithm, alg)
	}

	rc := suit.Recipient{KID: spec.KID}
	var kek []byte
	if spec.KEK != nil {
		if len(spec.KEK) != cekSize {
			return nil, nil, fmt.Errorf("encrypt: A128KW needs a %d-byte KEK, have %d", cekSize, len(spec.KEK))
		}
		rc.Alg, kek = suit.AlgA128KW, spec.KEK
	} else {
		if spec.RecipientKey.Curve() != ecdh.P256() {
			return nil, nil, errors.New("encrypt: ECDH-ES+A128KW needs a P-256 recipient key")
		}
		eph, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		rc.Alg, rc.Ephemeral = suit.AlgECDHESA128KW, eph.PublicKey()
		rc.Protected = algHeader(suit.AlgECDHESA128KW)
		if kek, err = suit.DeriveKEK(eph, spec.RecipientKey, rc.Protected); err != nil {
			return nil, nil, err
		}
		defer clear(kek)
	}
	if rc.EncryptedKey, err = aesKeyWrap(kek, cek); err != nil {
		return nil, nil, err
	}
	info.Recipients = []suit.Recipient{rc}
	return ciphertext, info.Encode(), nil
}

// algHeader is a protected header that holds only the algorithm.
func algHeader(alg int64) []byte {
	const coseHeaderAlg = 1 // RFC 9052 §3.1
	return mustMarshal(map[int64]int64{coseHeaderAlg: alg})
}
