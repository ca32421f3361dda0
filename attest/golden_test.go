package attest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden encodings in testdata/golden/")

// TestGoldenClaims pins the EAT claims set of testClaims byte for byte
// (its diagnostic notation is in testdata/golden/claims.diag): a change
// of the encoding is a change of the profile, and shows here.
func TestGoldenClaims(t *testing.T) {
	t.Parallel()
	got, err := encodePayload(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", "claims.cbor")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("claims encode to\n%x\nwant\n%x", got, want)
	}
	c, err := decodePayload(want)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := encodePayload(c); !bytes.Equal(again, want) {
		t.Errorf("the golden claims do not re-encode byte for byte")
	}
}
