package suit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKDFContextVector encodes the COSE_KDF_Context of the ECDH-ES
// examples and compares it with a128kw_kdf_context.diag, read item by
// item: [-3, [null, null, null], [null, null, null],
// [128, << {1: -29} >>, 'SUIT Payload Encryption']].
func TestKDFContextVector(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "suit-firmware-encryption", "a128kw_kdf_context.diag"))
	if err != nil {
		t.Fatal(err)
	}
	diag := string(raw)
	for _, item := range []string{"-3 / A128KW /", "[ null, null, null ]", "128", "<< { / alg / 1: -29", "'SUIT Payload Encryption'"} {
		if !strings.Contains(diag, item) {
			t.Fatalf("the diag no longer says %q:\n%s", item, diag)
		}
	}
	protected := mustMarshal(map[int64]int64{coseHeaderAlg: AlgECDHESA128KW})
	want := mustMarshal([]any{int64(AlgA128KW), []any{nil, nil, nil}, []any{nil, nil, nil},
		[]any{uint64(128), protected, []byte("SUIT Payload Encryption")}})
	if got := kdfContext(protected); !bytes.Equal(got, want) {
		t.Fatalf("kdfContext:\n got %x\nwant %x", got, want)
	}
	// And it is the context that opens the published ECDH-ES vectors: the
	// recipients' protected header is exactly << {1: -29} >>.
	info, _ := readEncryptionVector(t, "es-ecdh-aes-gcm")
	parsed, err := ParseEncryptionInfo(info)
	if err != nil || !bytes.Equal(parsed.Recipients[0].Protected, protected) {
		t.Fatalf("recipient protected header %x, %v", parsed.Recipients[0].Protected, err)
	}
}
