package author

import (
	"crypto/ecdh"
	crand "crypto/rand"
	"testing"
)

func TestEncryptPayloadRefuses(t *testing.T) {
	t.Parallel()
	kek := []byte("aaaaaaaaaaaaaaaa")
	k, err := ecdh.P256().GenerateKey(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, spec := range map[string]EncryptSpec{
		"no recipient":      {},
		"two recipients":    {KEK: kek, RecipientKey: k.PublicKey()},
		"short KEK":         {KEK: kek[:8]},
		"unknown algorithm": {Alg: 3, KEK: kek},
	} {
		if _, _, err := EncryptPayload([]byte("x"), spec); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
