package dryrun_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

// Published test keys of draft-ietf-suit-firmware-encryption.
var (
	vectorKEK    = []byte("aaaaaaaaaaaaaaaa")
	vectorMACKey = bytes.Repeat([]byte("a"), 32)
)

const vectorPlaintext = "This is a real firmware image."

const encryptedFirmwareURI = "coaps://example.com/encrypted-firmware"

func readFE(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "suit-firmware-encryption", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func agreementKey(t testing.TB) *ecdh.PrivateKey {
	t.Helper()
	block, _ := pem.Decode(readFE(t, "recipient-ecdh-private-key-TEST-ONLY.pem"))
	if block == nil {
		t.Fatal("no PEM block")
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

func loadFE(t testing.TB, name string, keys ...*suit.Key) *suit.Verified {
	t.Helper()
	env, err := suit.ParseEnvelope(hexBytes(t, readFE(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	v, err := env.Authenticate(keys)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func hexBytes(t testing.TB, raw []byte) []byte {
	t.Helper()
	var clean []byte
	for _, c := range raw {
		if c > ' ' {
			clean = append(clean, c)
		}
	}
	return exHex(string(clean))
}

func feKeys(t testing.TB) []*suit.Key {
	mac, err := suit.NewMACKey(vectorMACKey)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := suit.ParsePublicKeyPEM(readFE(t, "signer-public-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return []*suit.Key{mac, signer}
}

// TestEncryptedManifestsProcess runs the firmware-encryption examples on a
// dry-run device that holds the draft's KEK and P-256 key: each decrypts
// its payload, on write or on copy, to the published plaintext.
func TestEncryptedManifestsProcess(t *testing.T) {
	payload := hexBytes(t, readFE(t, "encrypted-payload-aes-kw-aes-gcm.hex"))
	tests := []struct {
		name, file string
		plaintext  string // component holding the plaintext
	}{
		{"fe-aes-kw-content", "suit-manifest-aes-kw-content.hex.signed", "['plaintext-firmware']"},
		{"fe-aes-kw-slot", "suit-manifest-aes-kw-slot.hex.signed", "[00]"},
		{"fe-aes-kw-copy", "suit-manifest-aes-kw.hex.signed", "['plaintext-firmware']"},
		{"fe-es-ecdh-content", "suit-manifest-es-ecdh-content.hex.signed", "['decrypted-firmware']"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := loadFE(t, tc.file, feKeys(t)...)
			dev := &dryrun.Device{KEK: vectorKEK, AgreementKey: agreementKey(t),
				Payloads: map[string][]byte{encryptedFirmwareURI: payload}}
			res, err := suit.Process(context.Background(), v, dev, suit.Options{Details: true})
			if err != nil {
				t.Fatalf("Process: %v\n%s", err, res.Trace())
			}
			golden(t, filepath.Join("testdata", tc.name+".trace"), res.Trace())
			if got := imageOf(dev, tc.plaintext); got != vectorPlaintext {
				t.Errorf("%s holds %q, want %q", tc.plaintext, got, vectorPlaintext)
			}
		})
	}
}

func imageOf(d *dryrun.Device, id string) string {
	for _, c := range d.Components {
		if c.ID.String() == id && c.Image != nil {
			return string(c.Image.Data)
		}
	}
	return "<none>"
}

// TestEncryptedManifestsRefused: without the device's key, or with the
// payload altered, decryption fails with a typed error, and the
// destination component never holds anything (GCM plaintext is committed
// only once the tag verified).
func TestEncryptedManifestsRefused(t *testing.T) {
	payload := hexBytes(t, readFE(t, "encrypted-payload-aes-kw-aes-gcm.hex"))
	altered := bytes.Clone(payload)
	altered[3] ^= 1
	badTag := bytes.Clone(payload)
	badTag[len(badTag)-1] ^= 1
	tests := []struct {
		name, file string
		dev        *dryrun.Device
		want       error
		dest       string
	}{
		{"no KEK", "suit-manifest-aes-kw.hex.signed", &dryrun.Device{Payloads: map[string][]byte{encryptedFirmwareURI: payload}},
			suit.ErrNoDecryptionKey, "['plaintext-firmware']"},
		{"wrong KEK", "suit-manifest-aes-kw.hex.signed", &dryrun.Device{KEK: []byte("bbbbbbbbbbbbbbbb"), Payloads: map[string][]byte{encryptedFirmwareURI: payload}},
			suit.ErrDecryption, "['plaintext-firmware']"},
		{"altered ciphertext", "suit-manifest-aes-kw.hex.signed", &dryrun.Device{KEK: vectorKEK, Payloads: map[string][]byte{encryptedFirmwareURI: altered}},
			suit.ErrDecryption, "['plaintext-firmware']"},
		{"altered tag", "suit-manifest-aes-kw-slot.hex.signed", &dryrun.Device{KEK: vectorKEK, Payloads: map[string][]byte{encryptedFirmwareURI: badTag}},
			suit.ErrDecryption, "[00]"},
		{"no agreement key", "suit-manifest-es-ecdh-content.hex.signed", &dryrun.Device{KEK: vectorKEK},
			suit.ErrNoDecryptionKey, "['decrypted-firmware']"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := loadFE(t, tc.file, feKeys(t)...)
			res, err := suit.Process(context.Background(), v, tc.dev, suit.Options{Details: true})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Process = %v, want %v\n%s", err, tc.want, res.Trace())
			}
			if got := imageOf(tc.dev, tc.dest); got != "<none>" {
				t.Errorf("%s holds %q after a failed decryption", tc.dest, got)
			}
		})
	}
}

// TestBuildDecryptOnFetch: a payload built to decrypt on fetch, fetched or
// integrated, lands decrypted in its own component with no staging
// component, and an altered ciphertext leaves it empty.
func TestBuildDecryptOnFetch(t *testing.T) {
	kek := []byte("0123456789abcdef")
	for _, tc := range []struct {
		name      string
		alg       int64
		integrate bool
	}{{"gcm-fetched", suit.AlgA128GCM, false}, {"gcm-integrated", suit.AlgA128GCM, true}, {"ctr-fetched", suit.AlgA128CTR, false}} {
		t.Run(tc.name, func(t *testing.T) {
			plain := bytes.Repeat([]byte("secret firmware "), 100)
			c := author.Component{ID: suit.ComponentID{[]byte("fw")}, Payload: plain, DecryptOnFetch: true,
				Encrypt: &author.EncryptSpec{Alg: tc.alg, KEK: kek}}
			if tc.integrate {
				c.Integrate, c.Name = true, "fw"
			} else {
				c.URI = "https://fw.example/fw.enc"
			}
			env, detached, err := author.BuildDetached(&author.Manifest{SequenceNumber: 1, VendorID: make([]byte, 16), ClassID: make([]byte, 16),
				Components: []author.Component{c}})
			if err != nil {
				t.Fatal(err)
			}
			author, err := suit.GenerateSigningKey(suit.AlgES256)
			if err != nil {
				t.Fatal(err)
			}
			pub, _ := author.Public()
			if err := env.Sign(author); err != nil {
				t.Fatal(err)
			}
			v, err := env.Authenticate([]*suit.Key{pub})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(v.Manifest.Components); n != 1 {
				t.Fatalf("%d components, want 1 (no staging)", n)
			}
			for _, alter := range []bool{false, true} {
				payloads := map[string][]byte{}
				for uri, ct := range detached {
					ct = bytes.Clone(ct)
					if alter {
						ct[len(ct)-1] ^= 1
					}
					payloads[uri] = ct
				}
				if tc.integrate && alter {
					continue // the envelope's digest covers an integrated payload
				}
				dev := &dryrun.Device{KEK: kek, Payloads: payloads}
				_, err := suit.Process(context.Background(), v, dev, suit.Options{})
				got := imageOf(dev, "['fw']")
				switch {
				case !alter && (err != nil || got != string(plain)):
					t.Fatalf("Process = %v, image %q", err, got)
				case alter && (err == nil || (tc.alg == suit.AlgA128GCM && got != "<none>")):
					t.Fatalf("altered ciphertext: Process = %v, image %.20q", err, got)
				}
			}
		})
	}
}
