package suit

import "testing"

// What the external tests (package suit_test, roundtrip_test.go) need
// from inside the package.
const (
	DecryptChunk    = decryptChunk
	VectorPlaintext = vectorPlaintext
)

var (
	ReadEncryptionVector = readEncryptionVector
	VectorKEK            = vectorKEK
)

func MustHex(t testing.TB, s string) []byte { return mustHexT(t, s) }
