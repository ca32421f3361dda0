package suit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"math/big"

	"github.com/fxamacker/cbor/v2"
)

// COSE tags of the authentication blocks SUIT uses (RFC 9052).
const (
	tagCOSESign1 = 18
	tagCOSEMac0  = 17
	tagCOSESign  = 98
	tagCOSEMac   = 97
)

// coseHeaderAlg is the COSE header label of the algorithm.
const coseHeaderAlg = 1

// coseMessage is COSE_Sign1 or COSE_Mac0: [protected, unprotected, payload, sig/tag].
type coseMessage struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected map[int64]cbor.RawMessage
	Payload     cbor.RawMessage // null when detached, else a bstr
	Signature   []byte
}

// coseBlock is a parsed authentication block.
type coseBlock struct {
	mac     bool
	alg     int64
	msg     coseMessage
	payload []byte // the attached payload, nil when detached
	kid     []byte // the kid header parameter, nil when absent
}

var cborNull = []byte{0xf6}

func parseCOSEBlock(data []byte) (*coseBlock, error) {
	r := newReader(data)
	var b coseBlock
	if m, _ := r.peek(); m != majorTag {
		return nil, malformed("authentication block is not a tagged COSE_Sign1 or COSE_Mac0")
	}
	_, tag, err := r.head()
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagCOSESign1:
	case tagCOSEMac0:
		b.mac = true
	case tagCOSESign:
		return nil, unsupportedAs(ErrUnsupportedCOSE, "COSE_Sign authentication block")
	case tagCOSEMac:
		return nil, unsupportedAs(ErrUnsupportedCOSE, "COSE_Mac authentication block")
	default:
		return nil, malformed("authentication block has tag %d", tag)
	}
	if n, err := r.array(4); err != nil || n != 4 {
		return nil, malformed("COSE message is not an array of 4")
	}
	if b.msg.Protected, err = r.bytes(); err != nil {
		return nil, fmt.Errorf("COSE protected header: %w", err)
	}
	unprotected, err := readHeaderMap(r)
	if err != nil {
		return nil, fmt.Errorf("COSE unprotected header: %w", err)
	}
	// The payload is null (detached, as SUIT has it) or a bstr; anything
	// else, undefined included, is not a COSE payload.
	if !r.null() {
		if b.payload, err = r.bytes(); err != nil {
			return nil, fmt.Errorf("COSE payload: %w", err)
		}
	}
	if b.msg.Signature, err = r.bytes(); err != nil {
		return nil, fmt.Errorf("COSE signature: %w", err)
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	protected, err := readProtected(b.msg.Protected)
	if err != nil {
		return nil, fmt.Errorf("COSE protected header: %w", err)
	}
	// Of the header parameters, only the algorithm changes how a block
	// verifies; kid is a hint that trying every key honours.
	if err := checkCrit(protected, unprotected, coseHeaderAlg, coseHeaderKID); err != nil {
		return nil, fmt.Errorf("COSE header: %w", err)
	}
	rawAlg, ok := protected[coseHeaderAlg]
	if !ok {
		return nil, malformed("COSE protected header has no algorithm")
	}
	if _, dup := unprotected[coseHeaderAlg]; dup {
		return nil, malformed("COSE algorithm in both headers")
	}
	ar := newReader(rawAlg)
	if b.alg, err = ar.int(); err != nil {
		return nil, fmt.Errorf("COSE algorithm: %w", err)
	}
	if b.kid, err = readKID(protected, unprotected); err != nil {
		return nil, err
	}
	if b.mac != (b.alg == AlgHMAC256) {
		return nil, unsupportedAs(ErrUnsupportedAlgorithm, "COSE algorithm %d in this block", b.alg)
	}
	return &b, nil
}

// readHeaderMap reads a COSE header map with integer labels, keeping each
// value's encoding. An empty bstr stands for an empty protected header.
func readHeaderMap(r *reader) (map[int64][]byte, error) {
	if len(r.data) == 0 {
		return nil, nil
	}
	n, err := r.mapHead()
	if err != nil {
		return nil, err
	}
	h := make(map[int64][]byte, n)
	for range n {
		label, err := r.int()
		if err != nil {
			return nil, err
		}
		if _, dup := h[label]; dup {
			return nil, r.errf("duplicate header label %d", label)
		}
		if h[label], err = r.skip(maxNestedLevels); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// toBeSigned is the Sig_structure or MAC_structure over payload, with an
// empty external AAD as SUIT uses.
func (b *coseBlock) toBeSigned(payload []byte) []byte {
	context := "\x6aSignature1" // text string of 10 bytes
	if b.mac {
		context = "\x64MAC0"
	}
	out := make([]byte, 0, 1+len(context)+9+len(b.msg.Protected)+1+9+len(payload))
	out = append(out, 0x84) // array of 4
	out = append(out, context...)
	out = append(append(out, bstrHead(len(b.msg.Protected))...), b.msg.Protected...)
	out = append(out, 0x40) // external_aad: empty bstr
	out = append(append(out, bstrHead(len(payload))...), payload...)
	return out
}

// verify reports whether the block authenticates payload under key. A key
// of the wrong type for the block's algorithm does not verify.
func (b *coseBlock) verify(key *Key, payload []byte) bool {
	if b.payload != nil && !hmac.Equal(b.payload, payload) {
		return false
	}
	tbs := b.toBeSigned(payload)
	switch b.alg {
	case AlgHMAC256:
		if key.secret == nil {
			return false
		}
		m := hmac.New(sha256.New, key.secret)
		m.Write(tbs)
		return hmac.Equal(m.Sum(nil), b.msg.Signature)
	case AlgES256, AlgESP256:
		d := sha256.Sum256(tbs)
		return verifyECDSA(key.Public, elliptic.P256(), d[:], b.msg.Signature)
	case AlgES384:
		d := sha512.Sum384(tbs)
		return verifyECDSA(key.Public, elliptic.P384(), d[:], b.msg.Signature)
	case AlgEdDSA, AlgEd25519:
		pub, ok := key.Public.(ed25519.PublicKey)
		return ok && len(b.msg.Signature) == ed25519.SignatureSize && ed25519.Verify(pub, tbs, b.msg.Signature)
	}
	return false
}

func verifyECDSA(pub crypto.PublicKey, curve elliptic.Curve, digest, sig []byte) bool {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != curve {
		return false
	}
	n := (curve.Params().BitSize + 7) / 8
	if len(sig) != 2*n {
		return false
	}
	r := new(big.Int).SetBytes(sig[:n])
	s := new(big.Int).SetBytes(sig[n:])
	return ecdsa.Verify(k, digest, r, s)
}

// signCOSE builds a tagged COSE_Sign1 (or COSE_Mac0 for a MAC key) with a
// detached payload, as SUIT authentication blocks are.
func signCOSE(s *SigningKey, payload []byte) ([]byte, error) {
	return signCOSEPayload(s, payload, false)
}

// signCOSEPayload is signCOSE with the payload attached when attached is
// set, as a signed report carries it.
func signCOSEPayload(s *SigningKey, payload []byte, attached bool) ([]byte, error) {
	return signCOSEWithKID(s, payload, attached, nil)
}

// signCOSEWithKID is signCOSEPayload with kid in the unprotected header
// when kid is not empty.
func signCOSEWithKID(s *SigningKey, payload []byte, attached bool, kid []byte) ([]byte, error) {
	b := coseBlock{alg: s.Alg, mac: s.Alg == AlgHMAC256}
	b.msg.Protected = mustMarshal(map[int64]int64{coseHeaderAlg: s.Alg})
	b.msg.Unprotected = map[int64]cbor.RawMessage{}
	if len(kid) > 0 {
		b.msg.Unprotected[coseHeaderKID] = mustMarshal(kid)
	}
	b.msg.Payload = cborNull
	if attached {
		b.msg.Payload = bstrEncoding(payload)
	}
	tbs := b.toBeSigned(payload)
	switch s.Alg {
	case AlgHMAC256:
		m := hmac.New(sha256.New, s.secret)
		m.Write(tbs)
		b.msg.Signature = m.Sum(nil)
	case AlgES256, AlgESP256, AlgES384:
		k, ok := s.private.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("algorithm %d needs an ECDSA key", s.Alg)
		}
		var digest []byte
		if s.Alg == AlgES384 {
			d := sha512.Sum384(tbs)
			digest = d[:]
		} else {
			d := sha256.Sum256(tbs)
			digest = d[:]
		}
		r, sv, e := ecdsa.Sign(rand.Reader, k, digest)
		if e != nil {
			return nil, e
		}
		n := (k.Curve.Params().BitSize + 7) / 8
		sig := make([]byte, 2*n)
		r.FillBytes(sig[:n])
		sv.FillBytes(sig[n:])
		b.msg.Signature = sig
	case AlgEdDSA, AlgEd25519:
		k, ok := s.private.(ed25519.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("algorithm %d needs an Ed25519 key", s.Alg)
		}
		b.msg.Signature = ed25519.Sign(k, tbs)
	default:
		return nil, unsupportedAs(ErrUnsupportedAlgorithm, "signing algorithm %d", s.Alg)
	}
	tag := uint64(tagCOSESign1)
	if b.mac {
		tag = tagCOSEMac0
	}
	out, err := encMode.Marshal(b.msg)
	if err != nil {
		return nil, err
	}
	return append(tagHead(tag), out...), nil
}
