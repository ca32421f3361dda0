package keys

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestDeviceKeysRoundTrip(t *testing.T) {
	d, err := NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalDevice(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Agreement.Equal(d.Agreement) || !back.Attestation.Equal(d.Attestation) || !back.Agent.Equal(d.Agent) {
		t.Fatal("device keys changed in a round trip")
	}
	pub, err := d.AgreementPublicPEM()
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pub)
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pub, []byte("PUBLIC KEY")) || parsed == nil {
		t.Fatalf("agreement public key PEM: %s", pub)
	}
	if bytes.Contains(pub, d.Agreement.Bytes()) {
		t.Fatal("the public PEM holds the private key")
	}
}

func TestUnmarshalDeviceRefuses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	good := make([]byte, deviceKeysSize)
	for i := range good {
		good[i] = byte(rng.Uint32())
	}
	zero := bytes.Clone(good)
	copy(zero[:32], make([]byte, 32)) // a zero scalar is no key
	order := bytes.Clone(good)
	copy(order[32:64], bytes.Repeat([]byte{0xff}, 32)) // above the group order
	agentOrder := bytes.Clone(good)
	copy(agentOrder[64:], bytes.Repeat([]byte{0xff}, 32))
	for name, b := range map[string][]byte{
		"empty": nil, "short": good[:63], "between": good[:deviceKeysSizeNoAgt+1], "long": append(bytes.Clone(good), 0),
		"zero agreement": zero, "attestation past the order": order, "agent past the order": agentOrder,
	} {
		if _, err := UnmarshalDevice(b); !errors.Is(err, ErrDeviceKeys) {
			t.Errorf("%s: %v, want ErrDeviceKeys", name, err)
		}
	}
	if _, err := UnmarshalDevice(good); err != nil {
		t.Errorf("random scalars: %v", err)
	}
}

// TestDeviceAgentKey: the Agent's key signs what its published public key
// verifies; a device made before the Agent (two keys stored) has none and
// says so.
func TestDeviceAgentKey(t *testing.T) {
	d, err := NewDevice(nil)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := d.AgentSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := d.AgentPublicPEM()
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := sk.Public(); !want.Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
		t.Fatal("the published Agent key is not the signing key's")
	}
	if d.Agent.Equal(d.Attestation) {
		t.Fatal("the Agent key is the attestation key")
	}
	old := &Device{Agreement: d.Agreement, Attestation: d.Attestation}
	raw, err := old.MarshalBinary()
	if err != nil || len(raw) != deviceKeysSizeNoAgt {
		t.Fatalf("marshal without an Agent key: %d bytes, %v", len(raw), err)
	}
	back, err := UnmarshalDevice(raw)
	if err != nil || back.Agent != nil {
		t.Fatalf("unmarshal without an Agent key: %+v %v", back, err)
	}
	if _, err := back.AgentSigningKey(); !errors.Is(err, ErrNoAgentKey) {
		t.Fatalf("signing key of a device without one: %v", err)
	}
	if _, err := back.AgentPublicPEM(); !errors.Is(err, ErrNoAgentKey) {
		t.Fatalf("public key of a device without one: %v", err)
	}
}
