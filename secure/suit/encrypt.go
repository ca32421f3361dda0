package suit

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// EncryptSpec says how an author (or a distribution system) encrypts a
// payload for its recipients (draft-ietf-suit-firmware-encryption §5-6).
// Exactly one of KEK and RecipientKey is set.
type EncryptSpec struct {
	// Alg is AlgA128GCM (the default) or AlgA128CTR. A128CTR has no
	// integrity: the manifest must then check the plaintext's digest.
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
// the GCM tag appended) and the encoded SUIT_Encryption_Info.
func EncryptPayload(plaintext []byte, spec EncryptSpec) (ciphertext, encInfo []byte, err error) {
	alg := spec.Alg
	if alg == 0 {
		alg = AlgA128GCM
	}
	random := spec.Rand
	if random == nil {
		random = rand.Reader
	}
	if (spec.KEK == nil) == (spec.RecipientKey == nil) {
		return nil, nil, errors.New("encrypt: need exactly one of a KEK and a recipient key")
	}
	if uint64(len(plaintext)) > MaxEncryptedPayloadSize-gcmTagSize {
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
	info := &EncryptionInfo{Alg: alg}
	switch alg {
	case AlgA128GCM:
		info.IV = make([]byte, 12)
		if _, err := io.ReadFull(random, info.IV); err != nil {
			return nil, nil, err
		}
		info.Protected = mustMarshal(map[int64]int64{coseHeaderAlg: AlgA128GCM})
		info.algProtected = true
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, nil, err
		}
		ciphertext = aead.Seal(nil, info.IV, plaintext, encStructure(info.Protected))
	case AlgA128CTR:
		info.IV = make([]byte, 16)
		if _, err := io.ReadFull(random, info.IV); err != nil {
			return nil, nil, err
		}
		ciphertext = make([]byte, len(plaintext))
		cipher.NewCTR(block, info.IV).XORKeyStream(ciphertext, plaintext)
	default:
		return nil, nil, unsupportedAs(ErrUnsupportedAlgorithm, "content encryption algorithm %d", alg)
	}

	rc := Recipient{KID: spec.KID}
	var kek []byte
	if spec.KEK != nil {
		if len(spec.KEK) != cekSize {
			return nil, nil, fmt.Errorf("encrypt: A128KW needs a %d-byte KEK, have %d", cekSize, len(spec.KEK))
		}
		rc.Alg, kek = AlgA128KW, spec.KEK
	} else {
		if spec.RecipientKey.Curve() != ecdh.P256() {
			return nil, nil, errors.New("encrypt: ECDH-ES+A128KW needs a P-256 recipient key")
		}
		eph, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		rc.Alg, rc.Ephemeral, rc.algProtected = AlgECDHESA128KW, eph.PublicKey(), true
		rc.Protected = mustMarshal(map[int64]int64{coseHeaderAlg: AlgECDHESA128KW})
		if kek, err = ecdhKEK(eph, spec.RecipientKey, rc.Protected); err != nil {
			return nil, nil, err
		}
		defer clear(kek)
	}
	if rc.EncryptedKey, err = aesKeyWrap(kek, cek); err != nil {
		return nil, nil, err
	}
	info.Recipients = []Recipient{rc}
	return ciphertext, info.Encode(), nil
}
