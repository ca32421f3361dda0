package suit

import (
	"bytes"
	"errors"
	"testing"
)

// TestSign1: SignSign1 and OpenSign1 round trip with the kid; another key,
// an algorithm the caller does not allow, a detached payload and a kid
// that is not a byte string are refused.
func TestSign1(t *testing.T) {
	t.Parallel()
	key, err := GenerateSigningKey(AlgESP256)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.Public()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateSigningKey(AlgESP256)
	otherPub, _ := other.Public()
	kid := []byte("kid-1")
	data, err := SignSign1(key, []byte("payload"), kid)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenSign1(data, []*Key{otherPub, pub}, AlgESP256)
	if err != nil {
		t.Fatal(err)
	}
	if s.By != pub || !bytes.Equal(s.KID, kid) || !bytes.Equal(s.Payload, []byte("payload")) || s.Alg != AlgESP256 {
		t.Fatalf("%+v", s)
	}
	if _, err := OpenSign1(data, []*Key{otherPub}, AlgESP256); !errors.Is(err, ErrNoKeyVerifies) {
		t.Errorf("other key: %v", err)
	}
	if _, err := OpenSign1(data, []*Key{pub}, AlgEd25519); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("not allowed: %v", err)
	}
	detached, err := signCOSE(key, []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSign1(detached, []*Key{pub}, AlgESP256); !errors.Is(err, ErrMalformed) {
		t.Errorf("detached: %v", err)
	}
	// {4: 1}: a kid that is an integer.
	intKID := bytes.Replace(data, append([]byte{0xa1, 0x04, 0x45}, kid...), []byte{0xa1, 0x04, 0x01}, 1)
	if _, err := OpenSign1(intKID, []*Key{pub}, AlgESP256); !errors.Is(err, ErrMalformed) {
		t.Errorf("integer kid: %v", err)
	}
}
