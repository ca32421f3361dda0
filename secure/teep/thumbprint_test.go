package teep

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/hex"
	"errors"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestThumbprintRFC9679 checks the example of RFC 9679 §6: an EC2 P-256
// key and its SHA-256 thumbprint.
func TestThumbprintRFC9679(t *testing.T) {
	t.Parallel()
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), unhex(t,
		"04"+"65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d"+
			"1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Thumbprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "496bd8afadf307e5b08c64b0421bf9dc01528a344a43bda88fadd1669da253ec")
	if !bytes.Equal(got, want) {
		t.Fatalf("thumbprint %x, want %x", got, want)
	}
}

func TestThumbprintKeys(t *testing.T) {
	t.Parallel()
	edPub := ed25519.PublicKey(unhex(t, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
	a, err := Thumbprint(edPub)
	if err != nil || len(a) != 32 {
		t.Fatalf("Ed25519: %x %v", a, err)
	}
	// Another key gives another thumbprint.
	other := append(ed25519.PublicKey{}, edPub...)
	other[0] ^= 1
	if b, _ := Thumbprint(other); bytes.Equal(a, b) {
		t.Fatal("two keys, one thumbprint")
	}
	if _, err := Thumbprint("not a key"); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("a string: %v", err)
	}
}
