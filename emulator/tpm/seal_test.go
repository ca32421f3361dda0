package tpm

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealUnseal(t *testing.T) {
	dir := t.TempDir()
	tp := openTPM(t, dir)
	secret := bytes.Repeat([]byte{0x5a}, 32)
	blob, err := tp.Seal(secret)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if bytes.Contains(blob, secret) {
		t.Fatalf("the sealed blob holds the secret in the clear")
	}
	got, err := tp.Unseal(blob)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Unseal = %x, %v; want %x", got, err, secret)
	}
	// A reset and a restart of the process keep the storage key.
	if err := tp.Reset(); err != nil {
		t.Fatal(err)
	}
	mustClose(t, tp)
	tp = openTPM(t, dir)
	if got, err := tp.Unseal(blob); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Unseal after restart = %x, %v", got, err)
	}

	attacks := []struct {
		name string
		blob []byte
	}{
		{"empty", nil},
		{"truncated", blob[:len(blob)/2]},
		{"length past the end", append([]byte{0xff, 0xff}, blob[2:]...)},
		{"flipped private byte", flip(blob, len(blob)-5)},
		{"flipped public byte", flip(blob, 8)},
	}
	for _, a := range attacks {
		if _, err := tp.Unseal(a.blob); !errors.Is(err, ErrUnsealFailed) {
			t.Errorf("%s: Unseal = %v, want ErrUnsealFailed", a.name, err)
		}
	}
	for _, n := range []int{0, MaxSealed + 1} {
		if _, err := tp.Seal(make([]byte, n)); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Seal(%d bytes) = %v, want ErrInvalidArgument", n, err)
		}
	}
	mustClose(t, tp)

	// Another device's TPM cannot unseal it.
	other := openTPM(t, t.TempDir())
	if _, err := other.Unseal(blob); !errors.Is(err, ErrUnsealFailed) {
		t.Fatalf("another TPM unsealed the blob: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}
