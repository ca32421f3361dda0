package suit

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The published vectors this package's tests read are copies in testdata/
// (each folder's README names the draft, section and snapshot they come
// from). A missing file fails the test: the conformance suite never passes
// by skipping.

// readHexVector reads a hex vector, whitespace ignored.
func readHexVector(t testing.TB, rel string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return b
}

func readPublicKey(t testing.TB, rel string) *Key {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePublicKeyPEM(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
