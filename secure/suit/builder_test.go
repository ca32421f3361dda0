package suit

import (
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	parsed, err := ParseEnvelope(env.Encode())
	if err != nil {
		t.Fatal(err)
	}
	m, err := parsed.ManifestUnverified()
	if err != nil {
		t.Fatal(err)
	}
	if m.SequenceNumber != 7 || len(m.Components) != 2 || !m.Components[1].Equal(ComponentID{[]byte("normal")}) {
		t.Errorf("decoded manifest %+v", m)
	}
	if !bytes.Equal(parsed.Encode(), env.Encode()) {
		t.Error("round trip changed the envelope")
	}
}

func TestBuiltManifestInstallsPayloads(t *testing.T) {
	k, _ := GenerateSigningKey(AlgES256)
	pub, _ := k.Public()
	env := buildTestEnvelope(t, 3)
	if err := env.Sign(k); err != nil {
		t.Fatal(err)
	}
	v, err := env.Authenticate([]*Key{pub})
	if err != nil {
		t.Fatal(err)
	}
	m := newMem()
	m.fetched["https://fw.example/s.bin"] = []byte("secure image")
	res, err := Process(context.Background(), v, m, Options{})
	if err != nil {
		t.Fatalf("Process: %v\n%s", err, res.Trace())
	}
	if string(m.images["[00]"]) != "secure image" || string(m.images["['normal']"]) != "normal image" {
		t.Errorf("images %q", m.images)
	}
	if strings.Join(res.Ran, ",") != "install,validate,invoke" {
		t.Errorf("ran %v", res.Ran)
	}

	// A payload that differs from the one the author hashed is refused.
	m = newMem()
	m.fetched["https://fw.example/s.bin"] = []byte("secure imagE")
	if _, err := Process(context.Background(), v, m, Options{}); err == nil || !strings.Contains(err.Error(), "image does not match") {
		t.Fatalf("tampered payload: %v", err)
	}
}

func TestBuildRefusesBadSpecs(t *testing.T) {
	uuid := bytes.Repeat([]byte{1}, 16)
	comp := BuildComponent{ID: ComponentID{{0}}, Payload: []byte("x"), URI: "u"}
	tests := []struct {
		name string
		spec BuildSpec
	}{
		{"no components", BuildSpec{VendorID: uuid, ClassID: uuid}},
		{"short vendor", BuildSpec{VendorID: uuid[:4], ClassID: uuid, Components: []BuildComponent{comp}}},
		{"no source", BuildSpec{VendorID: uuid, ClassID: uuid, Components: []BuildComponent{{ID: ComponentID{{0}}}}}},
		{"sever validate", BuildSpec{VendorID: uuid, ClassID: uuid, Components: []BuildComponent{comp}, Sever: []int64{KeyValidate}}},
		{"invoke without invocable", BuildSpec{VendorID: uuid, ClassID: uuid, Components: []BuildComponent{comp}, Sequences: []int64{KeyInvoke}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Build(&tc.spec); err == nil {
				t.Fatal("Build accepted a bad spec")
			}
		})
	}
}
