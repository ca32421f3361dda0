package suit

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
)

// cekSize is the content-encryption key size of A128GCM and A128CTR.
const cekSize = 16

// kdfOther is the SuppPubInfo.other of the ECDH-ES key derivation context
// (draft-ietf-suit-firmware-encryption §6.2.4).
const kdfOther = "SUIT Payload Encryption"

// KeySource recovers content-encryption keys for the device. It is the
// only way decryption reaches key material, so that the keys may stay in
// a secure element that implements it.
type KeySource interface {
	// ContentKey returns the CEK that recipient r wraps, when the source
	// holds the key r is addressed to. It returns an error wrapping
	// ErrNoDecryptionKey when it holds no such key, and ErrDecryption when
	// its key does not unwrap r (a wrong or altered wrapped key).
	ContentKey(r *Recipient) ([]byte, error)
}

// DeviceKeys is a KeySource over keys held in memory: a pre-shared AES
// key-encryption key for A128KW recipients and a P-256 key-agreement key
// for ECDH-ES+A128KW recipients. Either may be nil. Safe for concurrent
// use if not modified.
type DeviceKeys struct {
	// KEK is the 16-byte A128KW key-encryption key.
	KEK []byte
	// KEKID, when set, restricts KEK to recipients with this kid; a
	// recipient without a kid is tried with any KEK.
	KEKID []byte
	// AgreementKey is the device's P-256 private key for ECDH-ES.
	AgreementKey *ecdh.PrivateKey
	// AgreementKeyID, when set, restricts AgreementKey like KEKID.
	AgreementKeyID []byte
}

func kidMatches(want, have []byte) bool {
	return want == nil || have == nil || bytes.Equal(want, have)
}

// ContentKey implements KeySource.
func (k *DeviceKeys) ContentKey(r *Recipient) ([]byte, error) {
	switch r.Alg {
	case AlgA128KW:
		if len(k.KEK) != cekSize || !kidMatches(k.KEKID, r.KID) {
			return nil, ErrNoDecryptionKey
		}
		return unwrapCEK(k.KEK, r.EncryptedKey)
	case AlgECDHESA128KW:
		if k.AgreementKey == nil || k.AgreementKey.Curve() != ecdh.P256() || !kidMatches(k.AgreementKeyID, r.KID) {
			return nil, ErrNoDecryptionKey
		}
		kek, err := DeriveKEK(k.AgreementKey, r.Ephemeral, r.Protected)
		if err != nil {
			return nil, err
		}
		return unwrapCEK(kek, r.EncryptedKey)
	}
	return nil, fmt.Errorf("%w: recipient algorithm %d", ErrNoDecryptionKey, r.Alg)
}

func unwrapCEK(kek, wrapped []byte) ([]byte, error) {
	cek, err := aesKeyUnwrap(kek, wrapped)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecryption, err)
	}
	if len(cek) != cekSize {
		return nil, fmt.Errorf("%w: content key of %d bytes", ErrDecryption, len(cek))
	}
	return cek, nil
}

// DeriveKEK derives the A128KW key-encryption key of ECDH-ES+A128KW: the
// x-coordinate of the shared point through HKDF-SHA256 (no salt) with the
// COSE_KDF_Context of the draft, whose SuppPubInfo.protected is the
// recipient's protected header as sent (RFC 9053 §5.2, §6.3.1).
func DeriveKEK(priv *ecdh.PrivateKey, peer *ecdh.PublicKey, protected []byte) ([]byte, error) {
	if peer == nil {
		return nil, malformed("ECDH-ES recipient without an ephemeral key")
	}
	shared, err := priv.ECDH(peer)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecryption, err)
	}
	return hkdf.Key(sha256.New, shared, nil, string(kdfContext(protected)), cekSize)
}

// kdfContext encodes
//
//	[-3, [null, null, null], [null, null, null], [128, protected, 'SUIT Payload Encryption']]
func kdfContext(protected []byte) []byte {
	out := make([]byte, 0, 16+len(protected)+len(kdfOther))
	out = append(out, 0x84, 0x22, 0x83, 0xf6, 0xf6, 0xf6, 0x83, 0xf6, 0xf6, 0xf6, 0x83, 0x18, 8*cekSize)
	out = append(append(out, bstrHead(len(protected))...), protected...)
	out = append(append(out, bstrHead(len(kdfOther))...), kdfOther...)
	return out
}

// contentKey finds the first recipient that keys open. A recipient for a
// key the source lacks is skipped; one that the source's key fails to
// unwrap is remembered, so that an altered key is reported as such.
func contentKey(info *EncryptionInfo, keys KeySource) ([]byte, error) {
	if keys == nil {
		return nil, ErrNoDecryptionKey
	}
	var failed error
	for i := range info.Recipients {
		cek, err := keys.ContentKey(&info.Recipients[i])
		if err == nil {
			return cek, nil
		}
		if !errors.Is(err, ErrNoDecryptionKey) {
			failed = err
		}
	}
	if failed != nil {
		return nil, failed
	}
	return nil, ErrNoDecryptionKey
}
