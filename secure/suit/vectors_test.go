package suit

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// specDir finds ../shared/spec above the module root (where CI places it)
// or takes TEEUP_SPEC. A missing spec fails the test: the conformance
// suite must never pass by skipping.
func specDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("TEEUP_SPEC"); d != "" {
		return d
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, "shared", "spec")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
	}
	t.Fatal("no shared/spec found above the module; set TEEUP_SPEC")
	return ""
}

// readHexVector reads a hex vector, whitespace ignored.
func readHexVector(t testing.TB, rel string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(specDir(t), rel))
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
	raw, err := os.ReadFile(filepath.Join(specDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePublicKeyPEM(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
