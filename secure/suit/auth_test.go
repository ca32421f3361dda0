package suit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlipAnyByteFailsVerification flips every bit-0 of every byte of each
// signed example: none may still authenticate (integrated payloads aside,
// the examples have none).
func TestFlipAnyByteFailsVerification(t *testing.T) {
	key := readPublicKey(t, "suit-manifest/public-key.pem")
	for _, v := range manifestVectors {
		if !v.signed {
			continue
		}
		t.Run(v.file, func(t *testing.T) {
			data := readHexVector(t, "suit-manifest/"+v.file)
			for i := range data {
				mut := bytes.Clone(data)
				mut[i] ^= 0x01
				env, err := ParseEnvelope(mut)
				if err != nil {
					if !errors.Is(err, ErrRejected) {
						t.Fatalf("byte %d: parse error %v is not ErrRejected", i, err)
					}
					continue
				}
				if _, err := env.Authenticate([]*Key{key}); err == nil {
					t.Fatalf("byte %d flipped: still authenticates", i)
				} else if !errors.Is(err, ErrRejected) {
					t.Fatalf("byte %d: %v is not ErrRejected", i, err)
				}
			}
		})
	}
}

// builtEnvelope is the unsigned envelope that package author's golden
// test pins (sequence number 7): component [00] fetched from
// https://fw.example/s.bin ("secure image", invocable) and ['normal']
// integrated as #normal.bin ("normal image"), install severed.
func builtEnvelope(t testing.TB) *Envelope {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("author", "testdata", "built-two-components.hex"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	env, err := ParseEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestAuthenticateSigners(t *testing.T) {
	algs := []int64{AlgES256, AlgESP256, AlgES384, AlgEd25519, AlgEdDSA}
	signers := map[int64]*SigningKey{}
	for _, a := range algs {
		k, err := GenerateSigningKey(a)
		if err != nil {
			t.Fatal(err)
		}
		signers[a] = k
	}
	macKey, err := NewMACSigningKey(bytes.Repeat([]byte{'a'}, 32))
	if err != nil {
		t.Fatal(err)
	}
	pub := func(s *SigningKey) *Key {
		k, err := s.Public()
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	other, _ := GenerateSigningKey(AlgES256)
	tests := []struct {
		name     string
		sign     []*SigningKey
		trust    []*Key
		wantErr  error
		wantSigs int
	}{
		{"ES256", []*SigningKey{signers[AlgES256]}, []*Key{pub(signers[AlgES256])}, nil, 1},
		{"ESP256", []*SigningKey{signers[AlgESP256]}, []*Key{pub(signers[AlgESP256])}, nil, 1},
		{"ES384", []*SigningKey{signers[AlgES384]}, []*Key{pub(signers[AlgES384])}, nil, 1},
		{"Ed25519", []*SigningKey{signers[AlgEd25519]}, []*Key{pub(signers[AlgEd25519])}, nil, 1},
		{"EdDSA", []*SigningKey{signers[AlgEdDSA]}, []*Key{pub(signers[AlgEdDSA])}, nil, 1},
		{"HMAC256", []*SigningKey{macKey}, []*Key{pub(macKey)}, nil, 1},
		{"author and operator", []*SigningKey{signers[AlgES256], signers[AlgEd25519]},
			[]*Key{pub(signers[AlgES256]), pub(signers[AlgEd25519])}, nil, 2},
		{"unknown co-signer skipped", []*SigningKey{other, signers[AlgES256]}, []*Key{pub(signers[AlgES256])}, nil, 1},
		{"wrong key", []*SigningKey{signers[AlgES256]}, []*Key{pub(other)}, ErrBadSignature, 0},
		{"P-256 key does not verify ES384", []*SigningKey{signers[AlgES384]}, []*Key{pub(signers[AlgES256])}, ErrBadSignature, 0},
		{"unsigned", nil, []*Key{pub(signers[AlgES256])}, ErrUnauthenticated, 0},
		{"same key twice counts once", []*SigningKey{signers[AlgES256], signers[AlgES256]}, []*Key{pub(signers[AlgES256])}, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := builtEnvelope(t)
			for _, s := range tc.sign {
				if err := env.Sign(s); err != nil {
					t.Fatal(err)
				}
			}
			parsed, err := ParseEnvelope(env.Encode())
			if err != nil {
				t.Fatal(err)
			}
			v, err := parsed.Authenticate(tc.trust)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Authenticate = %v, want %v", err, tc.wantErr)
			}
			if err == nil && len(v.Signers) != tc.wantSigs {
				t.Errorf("%d signers, want %d", len(v.Signers), tc.wantSigs)
			}
		})
	}
}

func TestDuplicateBlockRefused(t *testing.T) {
	k, _ := GenerateSigningKey(AlgEd25519) // deterministic signatures: identical blocks
	env := builtEnvelope(t)
	for range 2 {
		if err := env.Sign(k); err != nil {
			t.Fatal(err)
		}
	}
	pub, _ := k.Public()
	if _, err := env.Authenticate([]*Key{pub}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Authenticate = %v, want ErrMalformed", err)
	}
}

func TestSeveredMemberMustMatch(t *testing.T) {
	k, _ := GenerateSigningKey(AlgES256)
	pub, _ := k.Public()
	env := builtEnvelope(t)
	if err := env.Sign(k); err != nil {
		t.Fatal(err)
	}
	v, err := env.Authenticate([]*Key{pub})
	if err != nil {
		t.Fatal(err)
	}
	if !v.Manifest.Members[KeyInstall].Present() {
		t.Fatal("severed install not attached")
	}
	severed := env.Sever()
	v, err = severed.Authenticate([]*Key{pub})
	if err != nil {
		t.Fatal(err)
	}
	if v.Manifest.Members[KeyInstall].Present() {
		t.Fatal("install present in a severed envelope")
	}
	bad := env.Sever()
	bad.Severable = map[int64][]byte{KeyInstall: bytes.Clone(env.Severable[KeyInstall])}
	bad.Severable[KeyInstall][len(bad.Severable[KeyInstall])-1] ^= 0x01
	if _, err := bad.Authenticate([]*Key{pub}); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("altered severed install: %v, want ErrDigestMismatch", err)
	}
}

func TestStrictDecoding(t *testing.T) {
	valid := readHexVector(t, "suit-manifest/example0.hex")
	tests := []struct {
		name string
		data []byte
	}{
		{"duplicate key", []byte{0xa2, 0x02, 0x41, 0x00, 0x02, 0x41, 0x00}},
		{"indefinite map", []byte{0xbf, 0x02, 0x41, 0x00, 0xff}},
		{"unknown tag", append([]byte{0xd8, 0x6c}, valid[2:]...)},
		{"nested tag", []byte{0xa1, 0x02, 0xc1, 0x00}},
		{"unknown member", []byte{0xa1, 0x05, 0x41, 0x00}},
		{"trailing bytes", append(bytes.Clone(valid), 0x00)},
		{"not a map", []byte{0x80}},
		{"empty", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseEnvelope(tc.data); !errors.Is(err, ErrRejected) {
				t.Fatalf("ParseEnvelope = %v, want ErrRejected", err)
			}
		})
	}
}
