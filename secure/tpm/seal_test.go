package tpm_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/teeup/teeup/secure/tpm"
	"github.com/teeup/teeup/secure/tpm/tpmtest"
)

func TestSealUnseal(t *testing.T) {
	sim := tpmtest.Open(t)
	secret := bytes.Repeat([]byte{0x5a}, 32)
	blob, err := sim.Seal(secret)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if bytes.Contains(blob, secret) {
		t.Fatalf("the sealed blob holds the secret in the clear")
	}
	got, err := sim.Unseal(blob)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Unseal = %x, %v; want %x", got, err, secret)
	}
	// A reset and a restart of the TPM keep the storage key.
	sim.Reset(t)
	dir := sim.Dir
	sim.Close()
	tp := tpmtest.OpenDir(t, dir)
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
		{"longer than any blob", make([]byte, tpm.MaxSealedBlob+1)},
	}
	for _, a := range attacks {
		if _, err := tp.Unseal(a.blob); !errors.Is(err, tpm.ErrUnsealFailed) {
			t.Errorf("%s: Unseal = %v, want ErrUnsealFailed", a.name, err)
		}
	}
	for _, n := range []int{0, tpm.MaxSealed + 1} {
		if _, err := tp.Seal(make([]byte, n)); !errors.Is(err, tpm.ErrInvalidArgument) {
			t.Errorf("Seal(%d bytes) = %v, want ErrInvalidArgument", n, err)
		}
	}
	tp.Close()

	// Another device's TPM cannot unseal it.
	if _, err := tpmtest.Open(t).Unseal(blob); !errors.Is(err, tpm.ErrUnsealFailed) {
		t.Fatalf("another TPM unsealed the blob: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// busTap records every command and response that crosses the TPM's
// command interface: what a probe on the bus of a discrete TPM sees.
type busTap struct {
	next    transport.TPM
	crossed []byte
}

func (b *busTap) Send(cmd []byte) ([]byte, error) {
	// Before it is sent: the simulator works on the command in place.
	b.crossed = append(b.crossed, cmd...)
	rsp, err := b.next.Send(cmd)
	b.crossed = append(b.crossed, rsp...)
	return rsp, err
}

// TestSealedSecretNeverCrossesInClear is a probe on the TPM bus during a
// Seal and an Unseal: the secret goes in and comes back out, and in
// neither direction is it on the bus in the clear.
func TestSealedSecretNeverCrossesInClear(t *testing.T) {
	tap := &busTap{next: tpmtest.Open(t).Chip}
	tp := tpm.New(tap)
	secret := []byte("the store's root key: 32 bytes!!")
	blob, err := tp.Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tp.Unseal(blob)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Unseal = %q, %v", got, err)
	}
	if len(tap.crossed) == 0 {
		t.Fatal("the tap saw nothing")
	}
	if bytes.Contains(tap.crossed, secret) || bytes.Contains(tap.crossed, secret[:16]) {
		t.Fatal("the secret crossed the TPM's command interface in the clear")
	}
}
