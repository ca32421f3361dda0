package suit

import (
	"bytes"
	"crypto/ecdh"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Published test keys of draft-ietf-suit-firmware-encryption (see the
// README of testdata/suit-firmware-encryption): never secret, never for production.
var vectorKEK = []byte("aaaaaaaaaaaaaaaa")

const vectorPlaintext = "This is a real firmware image."

func vectorAgreementKey(t testing.TB) *ecdh.PrivateKey {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "suit-firmware-encryption", "recipient-ecdh-private-key-TEST-ONLY.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		t.Fatal("recipient key: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := k.(interface {
		ECDH() (*ecdh.PrivateKey, error)
	}).ECDH()
	if err != nil {
		t.Fatal(err)
	}
	return ek
}

func vectorKeys(t testing.TB) *DeviceKeys {
	return &DeviceKeys{KEK: vectorKEK, AgreementKey: vectorAgreementKey(t)}
}

// encryptionVectors are the four SUIT_Encryption_Info / payload pairs.
var encryptionVectors = []struct {
	name           string
	alg, recipient int64
}{
	{"aes-kw-aes-gcm", AlgA128GCM, AlgA128KW},
	{"aes-kw-aes-ctr", AlgA128CTR, AlgA128KW},
	{"es-ecdh-aes-gcm", AlgA128GCM, AlgECDHESA128KW},
	{"es-ecdh-aes-ctr", AlgA128CTR, AlgECDHESA128KW},
}

func readEncryptionVector(t testing.TB, name string) (info, payload []byte) {
	t.Helper()
	return readHexVector(t, "suit-firmware-encryption/suit-encryption-info-"+name+".hex"),
		readHexVector(t, "suit-firmware-encryption/encrypted-payload-"+name+".hex")
}

// TestEncryptionInfoVectors parses each published encryption info, checks
// what it says, re-encodes it byte for byte (they are deterministic CBOR)
// and decrypts its payload to the published plaintext.
func TestEncryptionInfoVectors(t *testing.T) {
	keys := vectorKeys(t)
	for _, v := range encryptionVectors {
		t.Run(v.name, func(t *testing.T) {
			raw, payload := readEncryptionVector(t, v.name)
			info, err := ParseEncryptionInfo(raw)
			if err != nil {
				t.Fatalf("ParseEncryptionInfo: %v", err)
			}
			if info.Alg != v.alg || len(info.Recipients) != 1 || info.Recipients[0].Alg != v.recipient {
				t.Fatalf("alg %d recipients %+v, want %d / %d", info.Alg, info.Recipients, v.alg, v.recipient)
			}
			if got := info.Encode(); !bytes.Equal(got, raw) {
				t.Errorf("re-encoding differs:\n got %x\nwant %x", got, raw)
			}
			size, err := info.PlaintextSize(uint64(len(payload)))
			if err != nil || size != uint64(len(vectorPlaintext)) {
				t.Errorf("PlaintextSize(%d) = %d, %v", len(payload), size, err)
			}
			if got := info.CiphertextSize(size); got != uint64(len(payload)) {
				t.Errorf("CiphertextSize(%d) = %d, want %d", size, got, len(payload))
			}
			var out bytes.Buffer
			n, err := Decrypt(&out, bytes.NewReader(payload), raw, keys)
			if err != nil || out.String() != vectorPlaintext || n != int64(len(vectorPlaintext)) {
				t.Fatalf("Decrypt = %q (%d), %v", out.String(), n, err)
			}
		})
	}
}

func TestEncryptionInfoStrictPrefixesFail(t *testing.T) {
	for _, v := range encryptionVectors {
		raw, _ := readEncryptionVector(t, v.name)
		for n := range len(raw) {
			if _, err := ParseEncryptionInfo(raw[:n]); !errors.Is(err, ErrRejected) {
				t.Fatalf("%s: prefix of %d/%d bytes: %v", v.name, n, len(raw), err)
			}
		}
	}
}

// TestEncryptionInfoRefused edits the A128KW/A128GCM vector into what the
// profile does not allow.
func TestEncryptionInfoRefused(t *testing.T) {
	kw, _ := readEncryptionVector(t, "aes-kw-aes-gcm")
	ctr, _ := readEncryptionVector(t, "aes-kw-aes-ctr")
	ecdhInfo, _ := readEncryptionVector(t, "es-ecdh-aes-gcm")
	replace := func(in []byte, old, repl string) []byte {
		t.Helper()
		o, n := mustHexT(t, old), mustHexT(t, repl)
		if !bytes.Contains(in, o) {
			t.Fatalf("%x not in vector", o)
		}
		return bytes.Replace(in, o, n, 1)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"untagged", kw[2:], ErrMalformed},
		{"other tag", replace(kw, "d860", "d861"), ErrMalformed},
		{"attached ciphertext", replace(kw, "f681", "4100"+"81"), ErrUnsupported},
		{"A192GCM", replace(kw, "43a10101", "43a10102"), ErrUnsupported},
		{"alg in both headers", replace(kw, "a1054c", "a201010"+"54c"), ErrMalformed},
		{"no alg", replace(kw, "43a10101", "40"), ErrMalformed},
		{"unknown protected label", replace(kw, "43a10101", "45a201010601"), ErrUnsupported},
		{"short IV", replace(kw, "054cf14aab9d81d51f7ad943fe87", "054bf14aab9d81d51f7ad943fe"), ErrMalformed},
		{"CTR with protected header", replace(ctr, "d8608440a20139fffd", "d8608443a10101a10139fffd"), ErrMalformed},
		{"no recipients", append(bytes.Clone(kw[:bytes.Index(kw, []byte{0xf6, 0x81})+1]), 0x80), ErrMalformed},
		{"A256KW recipient", replace(kw, "a2012204", "a2012404"), ErrUnsupported},
		{"kid not bstr", replace(kw, "04456b69642d31", "04656b69642d31"), ErrMalformed},
		{"short wrapped key", replace(kw, "5818", "5817")[:len(kw)-1], ErrMalformed},
		{"ECDH without ephemeral key", replace(ecdhInfo, "a120a4", "a10ba4"), ErrUnsupported},
		{"ephemeral key not on the curve", replace(ecdhInfo, "73024f415aa5", "73024f415aa6"), ErrMalformed},
		{"ephemeral key on P-384", replace(ecdhInfo, "a401022001", "a401022002"), ErrUnsupported},
		{"trailing bytes", append(bytes.Clone(kw), 0), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEncryptionInfo(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseEncryptionInfo(%x) = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}
