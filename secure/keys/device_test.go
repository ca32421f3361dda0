package keys

import (
	"bytes"
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
	if !back.Agreement.Equal(d.Agreement) || !back.Attestation.Equal(d.Attestation) {
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
	copy(order[32:], bytes.Repeat([]byte{0xff}, 32)) // above the group order
	for name, b := range map[string][]byte{
		"empty": nil, "short": good[:63], "long": append(bytes.Clone(good), 0),
		"zero agreement": zero, "attestation past the order": order,
	} {
		if _, err := UnmarshalDevice(b); !errors.Is(err, ErrDeviceKeys) {
			t.Errorf("%s: %v, want ErrDeviceKeys", name, err)
		}
	}
	if _, err := UnmarshalDevice(good); err != nil {
		t.Errorf("random scalars: %v", err)
	}
}
