package author

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/teeup/teeup/secure/suit"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestBuildGolden pins the builder's encoding: the unsigned envelope is a
// pure function of the spec.
func TestBuildGolden(t *testing.T) {
	env := buildTestEnvelope(t, 7)
	got := hex.EncodeToString(env.Encode()) + "\n"
	path := filepath.Join("testdata", "built-two-components.hex")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("built envelope changed:\n got %s\nwant %s", got, want)
	}
	// And it decodes back to what was declared.
	parsed, err := suit.ParseEnvelope(env.Encode())
	if err != nil {
		t.Fatal(err)
	}
	m, err := parsed.ManifestUnverified()
	if err != nil {
		t.Fatal(err)
	}
	if m.SequenceNumber != 7 || len(m.Components) != 2 || !m.Components[1].Equal(suit.ComponentID{[]byte("normal")}) {
		t.Errorf("decoded manifest %+v", m)
	}
	if !bytes.Equal(parsed.Encode(), env.Encode()) {
		t.Error("round trip changed the envelope")
	}
}

func TestBuildRefusesBadSpecs(t *testing.T) {
	uuid := bytes.Repeat([]byte{1}, 16)
	comp := Component{ID: suit.ComponentID{{0}}, Payload: []byte("x"), URI: "u"}
	tests := []struct {
		name string
		spec Manifest
	}{
		{"no components", Manifest{VendorID: uuid, ClassID: uuid}},
		{"short vendor", Manifest{VendorID: uuid[:4], ClassID: uuid, Components: []Component{comp}}},
		{"no source", Manifest{VendorID: uuid, ClassID: uuid, Components: []Component{{ID: suit.ComponentID{{0}}}}}},
		{"sever validate", Manifest{VendorID: uuid, ClassID: uuid, Components: []Component{comp}, Sever: []int64{suit.KeyValidate}}},
		{"invoke without invocable", Manifest{VendorID: uuid, ClassID: uuid, Components: []Component{comp}, Sequences: []int64{suit.KeyInvoke}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Build(&tc.spec); err == nil {
				t.Fatal("Build accepted a bad spec")
			}
		})
	}
}

// buildTestEnvelope is the envelope TestBuildGolden pins (at sequence
// number 7); package suit's tests read it from testdata.
func buildTestEnvelope(t testing.TB, seq uint64) *suit.Envelope {
	t.Helper()
	env, err := Build(&Manifest{
		SequenceNumber: seq,
		VendorID:       bytes.Repeat([]byte{0xfa}, 16),
		ClassID:        bytes.Repeat([]byte{0x14}, 16),
		Components: []Component{
			{ID: suit.ComponentID{{0x00}}, Payload: []byte("secure image"), URI: "https://fw.example/s.bin", Invoke: true},
			{ID: suit.ComponentID{[]byte("normal")}, Payload: []byte("normal image"), Integrate: true, Name: "normal.bin"},
		},
		Sever: []int64{suit.KeyInstall},
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}
