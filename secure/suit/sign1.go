package suit

import "fmt"

// ErrNoKeyVerifies: no key given verifies a COSE_Sign1.
var ErrNoKeyVerifies = fmt.Errorf("%w: no trusted key verifies the signature", ErrRejected)

// Sign1 is a tagged COSE_Sign1 with its payload attached, parsed and
// verified by OpenSign1. It exists for protocols beside SUIT that sign
// whole messages with the same keys and the same COSE rules (TEEP).
type Sign1 struct {
	Alg     int64  // the protected algorithm
	KID     []byte // the kid header parameter, nil when absent
	Payload []byte // the attached payload, verified
	By      *Key   // the key that verified it
}

// SignSign1 signs payload into a tagged COSE_Sign1 that carries it, with
// kid in the unprotected header when kid is not empty. A MAC key is
// refused: the result must be a signature.
func SignSign1(s *SigningKey, payload, kid []byte) ([]byte, error) {
	if s.Alg == AlgHMAC256 {
		return nil, unsupportedAs(ErrUnsupportedAlgorithm, "COSE_Sign1 with a MAC key")
	}
	return signCOSEWithKID(s, payload, true, kid)
}

// OpenSign1 parses a tagged COSE_Sign1 with an attached payload under the
// same rules as a SUIT authentication block (crit honoured, algorithm
// protected, bounded) and verifies it with the first of keys that does;
// allowed lists the algorithms the caller accepts. Every key is tried:
// the kid is a hint, returned for the caller to log or to pick keys by.
func OpenSign1(data []byte, keys []*Key, allowed ...int64) (*Sign1, error) {
	b, err := parseCOSEBlock(data)
	if err != nil {
		return nil, err
	}
	if b.mac {
		return nil, unsupportedAs(ErrUnsupportedCOSE, "COSE_Mac0 where a COSE_Sign1 is required")
	}
	if b.payload == nil {
		return nil, malformed("COSE_Sign1 with a detached payload")
	}
	ok := false
	for _, a := range allowed {
		ok = ok || a == b.alg
	}
	if !ok {
		return nil, unsupportedAs(ErrUnsupportedAlgorithm, "COSE algorithm %s", AlgName(b.alg))
	}
	for _, k := range keys {
		if k != nil && k.secret == nil && b.verify(k, b.payload) {
			return &Sign1{Alg: b.alg, KID: b.kid, Payload: b.payload, By: k}, nil
		}
	}
	return nil, ErrNoKeyVerifies
}

// readKID returns the kid header parameter of a COSE message: a bstr, in
// either bucket but not both.
func readKID(protected, unprotected map[int64][]byte) ([]byte, error) {
	raw, inP := protected[coseHeaderKID]
	rawU, inU := unprotected[coseHeaderKID]
	if inP && inU {
		return nil, malformed("COSE kid in both headers")
	}
	if inU {
		raw = rawU
	}
	if !inP && !inU {
		return nil, nil
	}
	kid, err := newReader(raw).bytes()
	if err != nil {
		return nil, fmt.Errorf("COSE kid: %w", err)
	}
	return kid, nil
}
