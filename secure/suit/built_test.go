package suit

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestBuiltManifestInstallsPayloads processes what package author built:
// the payloads it hashed install, and a different one is refused.
func TestBuiltManifestInstallsPayloads(t *testing.T) {
	k, _ := GenerateSigningKey(AlgES256)
	pub, _ := k.Public()
	env := builtEnvelope(t)
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
	if _, err := Process(context.Background(), v, m, Options{}); !errors.Is(err, ErrImageMismatch) {
		t.Fatalf("tampered payload: %v", err)
	}
}
