package author

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpecDocExamples builds every example of docs/spec.md, so that the
// document shows only specs that work: each JSON block is a spec, read
// from a folder that holds the files it names.
func TestSpecDocExamples(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "spec.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```json\n")[1:]
	if len(blocks) < 10 {
		t.Fatalf("docs/spec.md has %d examples", len(blocks))
	}
	for i, b := range blocks {
		spec, _, ok := strings.Cut(b, "```")
		if !ok {
			t.Fatalf("example %d does not end", i)
		}
		t.Run(strings.SplitN(spec, "\n", 2)[0], func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write := func(name string, data []byte) {
				t.Helper()
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range []string{"normal.bin", "secure.bin", "a.bin", "b.bin", "hello.ta"} {
				write(f, []byte("payload "+f))
			}
			write("kek.key", []byte("0123456789abcdef"))
			key, err := ecdh.P256().GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			der, err := x509.MarshalPKIXPublicKey(key.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			write(filepath.Join("dev", "identity", "agreement.pub.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
			write("spec.json", []byte(spec))
			m, err := LoadSpec(filepath.Join(dir, "spec.json"), false)
			if err != nil {
				t.Fatalf("%v\n%s", err, spec)
			}
			if _, _, err := BuildDetached(m); err != nil {
				t.Fatalf("build: %v\n%s", err, spec)
			}
		})
	}
}
