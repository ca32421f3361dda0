package author

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/teeup/teeup/secure/suit"
)

const (
	specVendor = `"vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe"`
	specClass  = `"class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45"`
)

// TestLoadSpec reads a spec whose payload file is relative to it, and
// refuses what it does not know rather than ignoring it.
func TestLoadSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, spec string
		ok         bool
	}{
		{"file and content", `{"sequence-number": 3, ` + specVendor + `, ` + specClass + `, "components": [
			{"id": ["00"], "file": "fw.bin", "uri": "http://fw.example/fw.bin", "invoke": true},
			{"id": ["'TA'", "'acme'"], "content": "6b6579"},
			{"id": ["'TA'", "'old'"], "unlink": true}], "sever": ["install"],
			"text": {"en": {"manifest-description": "release 3"}}}`, true},
		{"unknown field", `{"sequence-number": 1, ` + specVendor + `, ` + specClass + `, "colour": "red",
			"components": [{"id": ["00"], "file": "fw.bin", "uri": "u"}]}`, false},
		{"no sequence number", `{` + specVendor + `, ` + specClass + `, "components": [{"id": ["00"], "file": "fw.bin", "uri": "u"}]}`, false},
		{"unknown sequence", `{"sequence-number": 1, ` + specVendor + `, ` + specClass + `, "sequences": ["boot"],
			"components": [{"id": ["00"], "file": "fw.bin", "uri": "u"}]}`, false},
		{"unlink with a payload", `{"sequence-number": 1, ` + specVendor + `, ` + specClass + `,
			"components": [{"id": ["00"], "file": "fw.bin", "unlink": true}]}`, false},
		{"content not hex", `{"sequence-number": 1, ` + specVendor + `, ` + specClass + `,
			"components": [{"id": ["00"], "content": "xyz"}]}`, false},
		{"encrypt for two", `{"sequence-number": 1, ` + specVendor + `, ` + specClass + `,
			"components": [{"id": ["00"], "content": "00", "encrypt": {"kek": "k", "recipient": "r"}}]}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "fw.bin"), []byte("firmware"), 0o644); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "spec.json")
			if err := os.WriteFile(path, []byte(tc.spec), 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := LoadSpec(path, false)
			if (err == nil) != tc.ok {
				t.Fatalf("LoadSpec = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			if m.SequenceNumber != 3 || len(m.Components) != 3 || !bytes.Equal(m.Components[0].Payload, []byte("firmware")) ||
				!m.Components[1].Write || !m.Components[2].Unlink || m.Sever[0] != suit.KeyInstall {
				t.Fatalf("manifest %+v", m)
			}
			if _, err := Build(m); err != nil {
				t.Fatalf("Build: %v", err)
			}
		})
	}
}
