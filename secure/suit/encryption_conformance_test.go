package suit

import (
	"bytes"
	"errors"
	"testing"
)

// vectorMACKey is the COSE_Mac0 manifest key of the firmware-encryption
// examples: 'a' x 32, a published test key.
var vectorMACKey = bytes.Repeat([]byte("a"), 32)

// encryptedManifests are the five signed manifests of
// draft-ietf-suit-firmware-encryption, with the key that authenticates
// each (the dependency example's outer envelope is signed by the
// dependent's signer; its integrated dependency by the main key).
var encryptedManifests = []struct {
	file string
	mac  bool
	key  string // public key file under suit-firmware-encryption
}{
	{"suit-manifest-aes-kw-content.hex.signed", true, ""},
	{"suit-manifest-aes-kw-slot.hex.signed", true, ""},
	{"suit-manifest-aes-kw.hex.signed", true, ""},
	{"suit-manifest-es-ecdh-content.hex.signed", false, "signer-public-key.pem"},
	{"suit-manifest-es-ecdh-dependency.hex.signed", false, "dependent-signer-public-key.pem"},
}

// TestEncryptedManifestsConformance checks that each of the five manifests
// authenticates with its key and with no other, and that the encryption
// info each carries decodes.
func TestEncryptedManifestsConformance(t *testing.T) {
	mac, err := NewMACKey(vectorMACKey)
	if err != nil {
		t.Fatal(err)
	}
	mainKey := readPublicKey(t, "suit-firmware-encryption/signer-public-key.pem")
	dependentKey := readPublicKey(t, "suit-firmware-encryption/dependent-signer-public-key.pem")
	all := []*Key{mac, mainKey, dependentKey}
	for _, v := range encryptedManifests {
		t.Run(v.file, func(t *testing.T) {
			data := readHexVector(t, "suit-firmware-encryption/"+v.file)
			env, err := ParseEnvelope(data)
			if err != nil {
				t.Fatalf("ParseEnvelope: %v", err)
			}
			if got := env.Encode(); !bytes.Equal(got, data) {
				t.Errorf("re-encoding differs:\n got %x\nwant %x", got, data)
			}
			want := mac
			if !v.mac {
				want = readPublicKey(t, "suit-firmware-encryption/"+v.key)
			}
			vm, err := env.Authenticate(all)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if len(vm.Signers) != 1 || vm.Signers[0] != want.ID {
				t.Errorf("signers %v, want only %s", vm.Signers, want.ID)
			}
			var others []*Key
			for _, k := range all {
				if k.ID != want.ID {
					others = append(others, k)
				}
			}
			if _, err := env.Authenticate(others); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Authenticate without its key = %v, want ErrBadSignature", err)
			}
			found := 0
			var walk func(Sequence)
			walk = func(s Sequence) {
				for _, c := range s {
					if raw, ok := c.Params.Bytes(ParamEncryptionInfo); ok {
						if _, err := ParseEncryptionInfo(raw); err != nil {
							t.Errorf("encryption info: %v", err)
						}
						found++
					}
					for _, n := range c.Sequences {
						walk(n)
					}
				}
			}
			for _, mem := range vm.Manifest.Members {
				walk(mem.Commands)
			}
			if found != 1 {
				t.Errorf("%d encryption infos, want 1", found)
			}
			// The integrated dependency is an envelope of its own, signed
			// by the main key alone.
			if inner, ok := env.Integrated["#dependency-manifest"]; ok {
				ienv, err := ParseEnvelope(inner)
				if err != nil {
					t.Fatal(err)
				}
				iv, err := ienv.Authenticate(all)
				if err != nil || len(iv.Signers) != 1 || iv.Signers[0] != mainKey.ID {
					t.Fatalf("integrated dependency: signers %v, %v", iv, err)
				}
				if !vm.Manifest.IsDependency(1) || vm.Manifest.IDs()[1].String() != "['dependency-manifest.suit']" {
					t.Errorf("dependency 1: %v", vm.Manifest.IDs())
				}
			}
		})
	}
}
