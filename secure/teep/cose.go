package teep

import (
	"errors"
	"fmt"

	"github.com/teeup/teeup/secure/suit"
)

// The COSE_Sign1 wrapping shares secure/suit's COSE code (parsing with crit
// checking, the Sig_structure, ECDSA and Ed25519) rather than a second
// library: it is already reviewed, bounded and fuzzed, and takes the same
// keys (suit.Key, suit.SigningKey) that the secure world holds.

// SignAlgs are the algorithms Sign signs with (draft-26's mandatory
// suites); AcceptedAlgs those Open accepts, adding the ones earlier
// drafts and deployed peers sign with.
var (
	SignAlgs     = []int64{AlgESP256, AlgEd25519}
	AcceptedAlgs = []int64{AlgESP256, AlgEd25519, AlgES256, AlgEdDSA}
)

// Sign encodes m in numbering n and signs it into a tagged COSE_Sign1 whose
// kid (unprotected) is the RFC 9679 thumbprint of key's public key.
func Sign(m Message, n Numbering, key *suit.SigningKey) ([]byte, error) {
	if key.Alg != AlgESP256 && key.Alg != AlgEd25519 {
		return nil, wrapf(ErrAlgorithm, "signing with %s", suit.AlgName(key.Alg))
	}
	payload, err := Encode(m, n)
	if err != nil {
		return nil, err
	}
	pub, err := key.Public()
	if err != nil {
		return nil, err
	}
	kid, err := Thumbprint(pub.Public)
	if err != nil {
		return nil, err
	}
	out, err := suit.SignSign1(key, payload, kid)
	if err != nil {
		return nil, err
	}
	if len(out) > MaxMessageSize {
		return nil, wrapf(ErrLimit, "signed message of %d bytes, at most %d", len(out), MaxMessageSize)
	}
	return out, nil
}

// Signed is a message Open verified.
type Signed struct {
	Message   Message
	Numbering Numbering
	Alg       int64     // the COSE algorithm it was signed with
	KID       []byte    // the kid it carried, nil when none
	By        *suit.Key // the key that verified it
}

// Open verifies a COSE_Sign1-wrapped TEEP message with one of keys and
// decodes its payload as Decode does (prefer settles an ambiguous
// numbering). A signature no key verifies is ErrSignature; an algorithm
// outside AcceptedAlgs ErrAlgorithm.
func Open(data []byte, keys []*suit.Key, prefer Numbering) (*Signed, error) {
	s, err := open(data, keys)
	if err != nil {
		return nil, err
	}
	m, n, err := Decode(s.Payload, prefer)
	if err != nil {
		return nil, err
	}
	return &Signed{Message: m, Numbering: n, Alg: s.Alg, KID: s.KID, By: s.By}, nil
}

// OpenAs is Open for a peer known to use numbering n.
func OpenAs(data []byte, keys []*suit.Key, n Numbering) (*Signed, error) {
	s, err := open(data, keys)
	if err != nil {
		return nil, err
	}
	m, err := DecodeAs(s.Payload, n)
	if err != nil {
		return nil, err
	}
	return &Signed{Message: m, Numbering: n, Alg: s.Alg, KID: s.KID, By: s.By}, nil
}

func open(data []byte, keys []*suit.Key) (*suit.Sign1, error) {
	if len(data) > MaxMessageSize {
		return nil, wrapf(ErrLimit, "message of %d bytes, at most %d", len(data), MaxMessageSize)
	}
	s, err := suit.OpenSign1(data, keys, AcceptedAlgs...)
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, suit.ErrNoKeyVerifies):
		return nil, fmt.Errorf("%w: %w", ErrSignature, err)
	case errors.Is(err, suit.ErrUnsupportedAlgorithm):
		return nil, fmt.Errorf("%w: %w", ErrAlgorithm, err)
	}
	return nil, fmt.Errorf("%w: COSE_Sign1: %w", ErrMalformed, err)
}
