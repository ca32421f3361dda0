package teep

// COSE message types and algorithms a cipher suite names.
const (
	COSESign1    = 18
	COSESign     = 98
	COSEEncrypt0 = 16
	COSEMac0     = 17

	AlgESP256  = -9
	AlgEd25519 = -19
	AlgES256   = -7
	AlgEdDSA   = -8
)

// Operation is one operation of a cipher suite: a COSE message type and
// an algorithm, [18, -9] for COSE_Sign1 with ESP256.
type Operation struct {
	COSEType int64
	Alg      int64
}

// CipherSuite is a $teep-cipher-suite. Two shapes exist on the wire:
// the current one, a list of operations ([[18, -9]]), and the draft-08
// triple [sign-alg, encrypt-alg, mac-alg] with null for an absent one
// ([-7, null, null]), read as the operations COSE_Sign1, COSE_Encrypt0
// and COSE_Mac0. Triple says which one a suite came in, so that it is
// answered in the same shape.
type CipherSuite struct {
	Ops    []Operation
	Triple bool
}

// The two cipher suites draft-26 makes mandatory.
var (
	SuiteESP256  = CipherSuite{Ops: []Operation{{COSESign1, AlgESP256}}}
	SuiteEd25519 = CipherSuite{Ops: []Operation{{COSESign1, AlgEd25519}}}
)

// SignAlg is the algorithm of the suite's signing operation.
func (s CipherSuite) SignAlg() (int64, bool) {
	for _, op := range s.Ops {
		if op.COSEType == COSESign1 || op.COSEType == COSESign {
			return op.Alg, true
		}
	}
	return 0, false
}

// Equal reports whether two suites name the same operations.
func (s CipherSuite) Equal(o CipherSuite) bool {
	if len(s.Ops) != len(o.Ops) {
		return false
	}
	for i := range s.Ops {
		if s.Ops[i] != o.Ops[i] {
			return false
		}
	}
	return true
}

// SUITCOSEProfile is a $suit-cose-profile: the current shape is four
// algorithms [digest, sign, key-wrap, encrypt] ([-16, -9, -29, -65534]),
// the earlier one two [sign, encrypt] ([-7, 1]); both are read, as 2 to 4
// integers, and kept as received.
type SUITCOSEProfile []int64

// The SUIT COSE profiles of draft-26.
var (
	ProfileESP256A128CTR    = SUITCOSEProfile{-16, -9, -29, -65534}
	ProfileEd25519A128CTR   = SUITCOSEProfile{-16, -19, -29, -65534}
	ProfileESP256A128GCM    = SUITCOSEProfile{-16, -9, -29, 1}
	ProfileEd25519ChaChaPly = SUITCOSEProfile{-16, -19, -29, 24}
)
