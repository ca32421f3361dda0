package suit

import (
	"crypto/ecdh"
	"fmt"
	"maps"
	"slices"
)

// tagCOSEEncrypt is the CBOR tag of COSE_Encrypt, which SUIT_Encryption_Info is.
const tagCOSEEncrypt = 96

// COSE header labels and COSE_Key parameters that encryption info uses
// (RFC 9052 §3.1, RFC 9053 §7.1).
const (
	coseHeaderKID          = 4
	coseHeaderIV           = 5
	coseHeaderEphemeralKey = -1

	coseKeyKty     = 1
	coseKeyCrv     = -1
	coseKeyX       = -2
	coseKeyY       = -3
	coseKtyEC2     = 2
	coseCrvP256    = 1
	p256FieldBytes = 32
)

// EncryptionInfo is a decoded SUIT_Encryption_Info
// (draft-ietf-suit-firmware-encryption §4): a tagged COSE_Encrypt whose
// ciphertext is detached (the payload travels apart) and whose recipients
// each carry the content-encryption key (CEK) for one key holder.
//
// Only what the draft profiles is accepted: content encryption A128GCM or
// A128CTR, recipients A128KW or ECDH-ES+A128KW, header labels alg, kid, IV
// and ephemeral key. Anything else is refused (ErrUnsupported) rather than
// ignored, since an unknown header may change how the payload must be read.
// Wire compatibility: a new algorithm or header gets a new constant here
// and a case in the decoder; nothing is skipped silently.
type EncryptionInfo struct {
	// Protected is the protected header as received: the bytes that the
	// AEAD's additional data (Enc_structure) covers.
	Protected []byte
	// Alg is the content-encryption algorithm, AlgA128GCM or AlgA128CTR.
	Alg int64
	// IV is the GCM nonce (12 bytes) or the initial CTR counter block (16).
	IV []byte
	// Recipients holds at least one recipient.
	Recipients []Recipient
}

// Recipient is one COSE_recipient: the CEK wrapped for one key holder.
type Recipient struct {
	// Protected is the recipient's protected header as received; for
	// ECDH-ES it goes into the key-derivation context.
	Protected []byte
	// Alg is AlgA128KW or AlgECDHESA128KW.
	Alg int64
	// KID names the key the CEK is wrapped for, nil when absent.
	KID []byte
	// Ephemeral is the sender's ephemeral P-256 key (ECDH-ES only).
	Ephemeral *ecdh.PublicKey
	// EncryptedKey is the wrapped CEK (RFC 3394).
	EncryptedKey []byte
}

// ParseEncryptionInfo decodes a SUIT_Encryption_Info strictly. The result
// aliases data. It checks structure and profile only: whether a key opens
// it is NewDecryptWriter's business.
func ParseEncryptionInfo(data []byte) (*EncryptionInfo, error) {
	info, err := readEncryptionInfo(newReader(data))
	if err != nil {
		return nil, fmt.Errorf("encryption info: %w", err)
	}
	return info, nil
}

func readEncryptionInfo(r *reader) (*EncryptionInfo, error) {
	tagged, err := r.tag(tagCOSEEncrypt)
	if err != nil {
		return nil, err
	}
	if !tagged {
		return nil, r.errf("encryption info is not a tagged COSE_Encrypt")
	}
	if n, err := r.array(4); err != nil || n != 4 {
		return nil, malformed("COSE_Encrypt is not an array of 4")
	}
	info := &EncryptionInfo{}
	if info.Protected, err = r.bytes(); err != nil {
		return nil, err
	}
	protected, err := readProtected(info.Protected)
	if err != nil {
		return nil, fmt.Errorf("protected header: %w", err)
	}
	unprotected, err := readHeaderMap(r)
	if err != nil {
		return nil, fmt.Errorf("unprotected header: %w", err)
	}
	if !r.null() {
		if m, _ := r.peek(); m == majorBytes {
			return nil, unsupportedAs(ErrUnsupportedCOSE, "attached ciphertext: SUIT payloads are detached")
		}
		return nil, r.errf("ciphertext is neither null nor a byte string")
	}
	n, err := r.array(MaxRecipients)
	if err != nil {
		return nil, fmt.Errorf("recipients: %w", err)
	}
	if n == 0 {
		return nil, malformed("no recipients")
	}
	for i := range n {
		rc, err := readRecipient(r)
		if err != nil {
			return nil, fmt.Errorf("recipient %d: %w", i, err)
		}
		info.Recipients = append(info.Recipients, rc)
	}
	if err := r.done(); err != nil {
		return nil, err
	}

	if err := checkCrit(protected, unprotected, coseHeaderAlg); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if err := onlyLabels(protected, coseHeaderAlg, coseHeaderCrit); err != nil {
		return nil, fmt.Errorf("protected header: %w", err)
	}
	if err := onlyLabels(unprotected, coseHeaderAlg, coseHeaderIV); err != nil {
		return nil, fmt.Errorf("unprotected header: %w", err)
	}
	if info.Alg, err = headerAlg(protected, unprotected); err != nil {
		return nil, err
	}
	raw, ok := unprotected[coseHeaderIV]
	if !ok {
		return nil, malformed("no IV")
	}
	if info.IV, err = headerBytes(raw); err != nil {
		return nil, fmt.Errorf("IV: %w", err)
	}
	switch info.Alg {
	case AlgA128GCM:
		if len(info.IV) != 12 {
			return nil, malformed("A128GCM IV of %d bytes, want 12", len(info.IV))
		}
	case AlgA128CTR:
		if len(info.IV) != 16 {
			return nil, malformed("A128CTR IV of %d bytes, want 16", len(info.IV))
		}
		// A non-AEAD cipher has no additional data to bind a protected
		// header to, so the draft requires it to be empty (§5).
		if len(info.Protected) != 0 {
			return nil, malformed("A128CTR with a non-empty protected header")
		}
	default:
		return nil, unsupportedAs(ErrUnsupportedAlgorithm, "content encryption algorithm %d", info.Alg)
	}
	return info, nil
}

func readRecipient(r *reader) (Recipient, error) {
	var rc Recipient
	if n, err := r.array(3); err != nil || n != 3 {
		return rc, malformed("COSE_recipient is not an array of 3")
	}
	var err error
	if rc.Protected, err = r.bytes(); err != nil {
		return rc, err
	}
	protected, err := readProtected(rc.Protected)
	if err != nil {
		return rc, fmt.Errorf("protected header: %w", err)
	}
	unprotected, err := readHeaderMap(r)
	if err != nil {
		return rc, fmt.Errorf("unprotected header: %w", err)
	}
	if rc.EncryptedKey, err = r.bytes(); err != nil {
		return rc, fmt.Errorf("encrypted key: %w", err)
	}
	if err := checkCrit(protected, unprotected, coseHeaderAlg); err != nil {
		return rc, fmt.Errorf("header: %w", err)
	}
	if err := onlyLabels(protected, coseHeaderAlg, coseHeaderCrit); err != nil {
		return rc, fmt.Errorf("protected header: %w", err)
	}
	if err := onlyLabels(unprotected, coseHeaderAlg, coseHeaderKID, coseHeaderEphemeralKey); err != nil {
		return rc, fmt.Errorf("unprotected header: %w", err)
	}
	if rc.Alg, err = headerAlg(protected, unprotected); err != nil {
		return rc, err
	}
	if raw, ok := unprotected[coseHeaderKID]; ok {
		if rc.KID, err = headerBytes(raw); err != nil {
			return rc, fmt.Errorf("kid: %w", err)
		}
	}
	// A 128-bit CEK wraps to 24 bytes (RFC 3394: one 64-bit block more).
	if len(rc.EncryptedKey) != 24 {
		return rc, malformed("wrapped key of %d bytes, want 24", len(rc.EncryptedKey))
	}
	rawKey, hasKey := unprotected[coseHeaderEphemeralKey]
	switch rc.Alg {
	case AlgA128KW:
		if len(protected) != 0 {
			return rc, malformed("A128KW recipient with protected header parameters")
		}
		if hasKey {
			return rc, malformed("A128KW recipient with an ephemeral key")
		}
	case AlgECDHESA128KW:
		if !hasKey {
			return rc, malformed("ECDH-ES recipient without an ephemeral key")
		}
		if rc.Ephemeral, err = readP256Key(rawKey); err != nil {
			return rc, fmt.Errorf("ephemeral key: %w", err)
		}
	default:
		return rc, unsupportedAs(ErrUnsupportedAlgorithm, "key distribution algorithm %d", rc.Alg)
	}
	return rc, nil
}

// readProtected decodes a protected header: empty, or a serialized map
// (an empty map included, which the draft's CDDL allows for recipients).
func readProtected(b []byte) (map[int64][]byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	r := newReader(b)
	h, err := readHeaderMap(r)
	if err != nil {
		return nil, err
	}
	return h, r.done()
}

// onlyLabels refuses a header with a label outside allowed, naming the
// smallest such label, so that the error does not depend on map order.
func onlyLabels(h map[int64][]byte, allowed ...int64) error {
	for _, label := range slices.Sorted(maps.Keys(h)) {
		if !slices.Contains(allowed, label) {
			return unsupportedAs(ErrUnsupportedCOSE, "header label %d", label)
		}
	}
	return nil
}

// headerAlg finds the algorithm, which must be in exactly one header.
func headerAlg(protected, unprotected map[int64][]byte) (int64, error) {
	p, inP := protected[coseHeaderAlg]
	u, inU := unprotected[coseHeaderAlg]
	switch {
	case inP && inU:
		return 0, malformed("algorithm in both headers")
	case !inP && !inU:
		return 0, malformed("no algorithm")
	}
	raw := u
	if inP {
		raw = p
	}
	r := newReader(raw)
	alg, err := r.int()
	if err != nil {
		// A text algorithm name is valid COSE but names nothing SUIT uses.
		return 0, unsupportedAs(ErrUnsupportedAlgorithm, "algorithm %x", raw)
	}
	return alg, r.done()
}

func headerBytes(raw []byte) ([]byte, error) {
	r := newReader(raw)
	b, err := r.bytes()
	if err != nil {
		return nil, err
	}
	return b, r.done()
}

// readP256Key reads a COSE_Key of type EC2 on P-256 with both coordinates
// and checks that the point is on the curve.
func readP256Key(raw []byte) (*ecdh.PublicKey, error) {
	r := newReader(raw)
	h, err := readHeaderMap(r)
	if err != nil {
		return nil, err
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	if err := onlyLabels(h, coseKeyKty, coseKeyCrv, coseKeyX, coseKeyY); err != nil {
		return nil, err
	}
	// In a fixed order, so that a key wrong in both says the same.
	for _, p := range [...]struct{ label, want int64 }{{coseKeyKty, coseKtyEC2}, {coseKeyCrv, coseCrvP256}} {
		kr := newReader(h[p.label])
		v, err := kr.int()
		if err != nil || v != p.want {
			return nil, unsupportedAs(ErrUnsupportedCOSE, "COSE_Key parameter %d is not %d", p.label, p.want)
		}
	}
	point := make([]byte, 1, 1+2*p256FieldBytes)
	point[0] = 4 // uncompressed
	for _, label := range []int64{coseKeyX, coseKeyY} {
		c, err := headerBytes(h[label])
		if err != nil || len(c) != p256FieldBytes {
			return nil, malformed("COSE_Key coordinate %d is not %d bytes", label, p256FieldBytes)
		}
		point = append(point, c...)
	}
	pub, err := ecdh.P256().NewPublicKey(point)
	if err != nil {
		return nil, malformed("ephemeral key is not a P-256 point")
	}
	return pub, nil
}

// Encode returns the encoding of the encryption info, with the
// unprotected headers encoded deterministically and the protected headers
// as they are; the algorithm goes into the unprotected header unless the
// protected one holds it. An info decoded from deterministic CBOR encodes
// to the same bytes.
func (e *EncryptionInfo) Encode() []byte {
	unprotected := map[int64]any{coseHeaderIV: e.IV}
	if !protectsAlg(e.Protected) {
		unprotected[coseHeaderAlg] = e.Alg
	}
	recipients := make([]any, len(e.Recipients))
	for i, rc := range e.Recipients {
		h := map[int64]any{}
		if !protectsAlg(rc.Protected) {
			h[coseHeaderAlg] = rc.Alg
		}
		if rc.KID != nil {
			h[coseHeaderKID] = rc.KID
		}
		if rc.Ephemeral != nil {
			point := rc.Ephemeral.Bytes()
			h[coseHeaderEphemeralKey] = map[int64]any{coseKeyKty: coseKtyEC2, coseKeyCrv: coseCrvP256,
				coseKeyX: point[1 : 1+p256FieldBytes], coseKeyY: point[1+p256FieldBytes:]}
		}
		recipients[i] = []any{nonNil(rc.Protected), h, rc.EncryptedKey}
	}
	body := mustMarshal([]any{nonNil(e.Protected), unprotected, nil, recipients})
	return append(tagHead(tagCOSEEncrypt), body...)
}

// protectsAlg reports whether a protected header holds the algorithm.
func protectsAlg(protected []byte) bool {
	h, err := readProtected(protected)
	_, ok := h[coseHeaderAlg]
	return err == nil && ok
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// EncryptionAlgName names a content-encryption or key-distribution algorithm.
func EncryptionAlgName(alg int64) string {
	switch alg {
	case AlgA128GCM:
		return "A128GCM"
	case AlgA128CTR:
		return "A128CTR"
	case AlgA128KW:
		return "A128KW"
	case AlgECDHESA128KW:
		return "ECDH-ES+A128KW"
	}
	return fmt.Sprintf("alg(%d)", alg)
}
