package suit

import (
	"bytes"
	"crypto/ecdh"
	crand "crypto/rand"
	"errors"
	"testing"
)

func TestDecryptKeys(t *testing.T) {
	raw, payload := readEncryptionVector(t, "aes-kw-aes-gcm")
	rawECDH, _ := readEncryptionVector(t, "es-ecdh-aes-gcm")
	other, err := ecdh.P256().GenerateKey(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		info []byte
		keys KeySource
		want error
	}{
		{"no keys", raw, nil, ErrNoDecryptionKey},
		{"only an agreement key", raw, &DeviceKeys{AgreementKey: other}, ErrNoDecryptionKey},
		{"wrong KEK", raw, &DeviceKeys{KEK: []byte("bbbbbbbbbbbbbbbb")}, ErrDecryption},
		{"KEK of another kid", raw, &DeviceKeys{KEK: vectorKEK, KEKID: []byte("kid-9")}, ErrNoDecryptionKey},
		{"KEK of its kid", raw, &DeviceKeys{KEK: vectorKEK, KEKID: []byte("kid-1")}, nil},
		{"wrong agreement key", rawECDH, &DeviceKeys{AgreementKey: other}, ErrDecryption},
		{"only a KEK", rawECDH, &DeviceKeys{KEK: vectorKEK}, ErrNoDecryptionKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := Decrypt(&out, bytes.NewReader(payload), tc.info, tc.keys)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Decrypt = %v, want %v", err, tc.want)
			}
			if err == nil && out.String() != vectorPlaintext {
				t.Fatalf("plaintext %q", out.String())
			}
		})
	}
}
