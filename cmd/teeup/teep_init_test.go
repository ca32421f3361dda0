package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teeup/teeup/attest/challenge"
	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/secure/service"
	"github.com/teeup/teeup/secure/suit"
)

// TestCLIDeviceInitTAMKey: device init --tam-key seals the TAM keys the
// device's TEEP Agent answers and publishes the Agent's key; a key TEEP
// cannot use, or a file that is no key, is a usage error and makes no
// device; without the flag the device has no Agent.
func TestCLIDeviceInitTAMKey(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	pemOf := func(name string, alg int64) (string, *suit.Key) {
		k, err := suit.GenerateSigningKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := k.MarshalPublicPEM()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		pub, _ := k.Public()
		return p, pub
	}
	tam1, k1 := pemOf("tam1.pem", suit.AlgESP256)
	tam2, k2 := pemOf("tam2.pem", suit.AlgEd25519)
	p384, _ := pemOf("p384.pem", suit.AlgES384)
	notKey := filepath.Join(tmp, "not-a-key.pem")
	if err := os.WriteFile(notKey, []byte("no key"), 0o644); err != nil {
		t.Fatal(err)
	}

	for name, key := range map[string]string{"P-384": p384, "not a key": notKey} {
		dev := filepath.Join(tmp, "refused-"+strings.ReplaceAll(name, " ", "-"))
		if out, e, code := teeup(t, "device", "init", "--dir", dev, "--tam-key", key); code == 0 || device.Exists(dev) {
			t.Fatalf("%s: exit %d, device made: %v\n%s%s", name, code, device.Exists(dev), out, e)
		}
	}

	dev := filepath.Join(tmp, "dev")
	out, e, code := teeup(t, "device", "init", "--dir", dev, "--tam-key", tam1, "--tam-key", tam2)
	if code != 0 || !strings.Contains(out, "TEEP Agent answers 2 TAM key(s)") || !strings.Contains(out, device.AgentKeyFile(dev)) {
		t.Fatalf("init: exit %d\n%s%s", code, out, e)
	}
	d, err := device.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	tams := d.Policy.TAMs
	d.Close()
	if len(tams) != 2 || tams[0].ID != k1.ID || tams[1].ID != k2.ID {
		t.Fatalf("sealed TAM keys %+v", tams)
	}
	if _, err := suit.ParsePublicKeyPEM(mustRead(t, device.AgentKeyFile(dev))); err != nil {
		t.Fatalf("identity/agent.pub.pem: %v", err)
	}

	// The TAM's verifier takes the evidence in the QueryResponse as what
	// attest/challenge accepts.
	if service.EvidenceFormat != challenge.EvidenceMediaType {
		t.Fatalf("the Agent's evidence format %q is not %q", service.EvidenceFormat, challenge.EvidenceMediaType)
	}

	plain := filepath.Join(tmp, "plain")
	if out, e, code := teeup(t, "device", "init", "--dir", plain); code != 0 || !strings.Contains(out, "no TEEP Agent") {
		t.Fatalf("init without --tam-key: exit %d\n%s%s", code, out, e)
	}
}
