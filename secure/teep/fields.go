package teep

import "bytes"

// cborNull is the encoding of null.
var cborNull = []byte{0xf6}

// suitEnvelopeTag is the head of tag 107, SUIT_Envelope_Tagged.
var suitEnvelopeTag = []byte{0xd8, 0x6b}

func readComponentID(raw []byte, what string) (ComponentID, error) {
	items, err := readArray(raw, MaxComponentIDParts, what)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, malformed("%s: empty component identifier", what)
	}
	id := make(ComponentID, len(items))
	for i, it := range items {
		if id[i], err = readBytes(it, 0, MaxMessageSize, what); err != nil {
			return nil, err
		}
	}
	return id, nil
}

func readComponentIDs(raw []byte, what string) ([]ComponentID, error) {
	items, err := readArray(raw, MaxTCs, what)
	if err != nil {
		return nil, err
	}
	out := make([]ComponentID, len(items))
	for i, it := range items {
		if out[i], err = readComponentID(it, what); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readCipherSuites reads a non-empty list of cipher suites.
func readCipherSuites(raw []byte, what string) ([]CipherSuite, error) {
	items, err := readArray(raw, MaxCipherSuites, what)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, wrapf(ErrMissing, "%s is empty", what)
	}
	out := make([]CipherSuite, len(items))
	for i, it := range items {
		if out[i], err = readCipherSuite(it); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readCipherSuite reads one suite in either shape (see CipherSuite). A
// suite without a signing operation is refused: every TEEP message is
// signed.
func readCipherSuite(raw []byte) (CipherSuite, error) {
	items, err := readArray(raw, MaxOperations, "cipher suite")
	if err != nil {
		return CipherSuite{}, wrapf(ErrCipherSuite, "%v", err)
	}
	if len(items) == 0 {
		return CipherSuite{}, wrapf(ErrCipherSuite, "empty")
	}
	var s CipherSuite
	if major(items[0]) == majorArray {
		for _, it := range items {
			op, err := readArray(it, 2, "operation")
			if err != nil || len(op) != 2 {
				return CipherSuite{}, wrapf(ErrCipherSuite, "operation is not [cose-type, alg]")
			}
			t, err1 := readInt(op[0], "cose type")
			a, err2 := readInt(op[1], "algorithm")
			if err1 != nil || err2 != nil {
				return CipherSuite{}, wrapf(ErrCipherSuite, "operation is not two integers")
			}
			s.Ops = append(s.Ops, Operation{COSEType: t, Alg: a})
		}
	} else {
		if len(items) != 3 {
			return CipherSuite{}, wrapf(ErrCipherSuite, "neither a list of operations nor a [sign, encrypt, mac] triple")
		}
		s.Triple = true
		for i, t := range [3]int64{COSESign1, COSEEncrypt0, COSEMac0} {
			if bytes.Equal(items[i], cborNull) {
				continue
			}
			a, err := readInt(items[i], "algorithm")
			if err != nil {
				return CipherSuite{}, wrapf(ErrCipherSuite, "triple element %d is neither an algorithm nor null", i)
			}
			s.Ops = append(s.Ops, Operation{COSEType: t, Alg: a})
		}
	}
	if _, ok := s.SignAlg(); !ok {
		return CipherSuite{}, wrapf(ErrCipherSuite, "no signing operation")
	}
	return s, nil
}

// readProfiles reads a list of SUIT COSE profiles (tolerated empty).
func readProfiles(raw []byte, what string) ([]SUITCOSEProfile, error) {
	items, err := readArray(raw, MaxProfiles, what)
	if err != nil {
		return nil, err
	}
	out := make([]SUITCOSEProfile, len(items))
	for i, it := range items {
		algs, err := readArray(it, 4, what)
		if err != nil {
			return nil, err
		}
		if len(algs) < 2 {
			return nil, malformed("%s: a profile of %d algorithms", what, len(algs))
		}
		p := make(SUITCOSEProfile, len(algs))
		for j, a := range algs {
			if p[j], err = readInt(a, what); err != nil {
				return nil, err
			}
		}
		out[i] = p
	}
	return out, nil
}

// readRequestedTCs reads requested-tc-list. requested-tc-info has no
// extension point in the CDDL, so a key it does not define is malformed.
func readRequestedTCs(raw []byte, n Numbering) ([]RequestedTC, error) {
	items, err := readArray(raw, MaxTCs, "requested-tc-list")
	if err != nil {
		return nil, err
	}
	out := make([]RequestedTC, len(items))
	for i, it := range items {
		m, err := readUintMap(it, "requested-tc-info")
		if err != nil {
			return nil, err
		}
		tc := &out[i]
		for l, v := range m {
			switch n.field(l) {
			case fComponentID:
				tc.ComponentID, err = readComponentID(v, "component-id")
			case fSequenceNumber:
				var seq uint64
				seq, err = readUint(v, "tc-manifest-sequence-number")
				tc.SequenceNumber = &seq
			case fHaveBinary:
				var b bool
				b, err = readBool(v, "have-binary")
				tc.HaveBinary = &b
			default:
				err = malformed("requested-tc-info: key %d", l)
			}
			if err != nil {
				return nil, err
			}
		}
		if tc.ComponentID == nil {
			return nil, wrapf(ErrMissing, "requested-tc-info without component-id")
		}
	}
	return out, nil
}

func readBool(raw []byte, what string) (bool, error) {
	switch {
	case bytes.Equal(raw, []byte{0xf5}):
		return true, nil
	case bytes.Equal(raw, []byte{0xf4}):
		return false, nil
	}
	return false, malformed("%s is not a bool", what)
}

// readManifests reads manifest-list: byte strings holding a SUIT_Envelope,
// tagged 107 or not. The envelope is checked to be one well-formed CBOR
// map; verifying it is secure/suit's work.
func readManifests(raw []byte) ([]Manifest, error) {
	items, err := readArray(raw, MaxManifests, "manifest-list")
	if err != nil {
		return nil, err
	}
	out := make([]Manifest, len(items))
	for i, it := range items {
		b, err := readBytes(it, 1, MaxMessageSize, "manifest-list entry")
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(b, suitEnvelopeTag) {
			out[i].Tagged = true
			b = b[len(suitEnvelopeTag):]
		}
		if err := decMode.Wellformed(b); err != nil {
			return nil, cborError("SUIT envelope", err)
		}
		if major(b) != majorMap {
			return nil, malformed("manifest-list entry %d is not a SUIT_Envelope map", i)
		}
		out[i].Envelope = b
	}
	return out, nil
}
