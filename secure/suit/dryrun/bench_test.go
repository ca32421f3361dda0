package dryrun_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

// placeholderDigest is the image digest of component [00] in the examples
// (draft-37 Appendix B uses placeholders, so no real payload matches it).
var placeholderDigest = mustHex("00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// benchDevice returns a fresh dry-run device for an example. Example 0 and
// the severed example 2 validate an image that nothing in the envelope
// installs (their install is absent or severed), so their device already
// holds a simulated image with the manifest's digest in component [00].
func benchDevice(name string) *dryrun.Device {
	d := &dryrun.Device{SimulateMissingPayloadsUnsafe: true}
	switch name {
	case "example0", "example2-severed":
		d.Components = []*dryrun.Component{{
			ID: suit.ComponentID{{0x00}},
			Image: &dryrun.Image{
				Simulated: true,
				Digest:    suit.Digest{Alg: suit.AlgSHA256, Bytes: placeholderDigest},
				Size:      34768,
			},
		}}
	}
	return d
}

// checkProcess fails b unless err is the expected outcome of processing
// the example. Every example completes on its bench device except
// example4: its load sequence copies component [00] into [02] and then
// requires [02] to match a different placeholder digest (0123…eeff, 76834
// bytes). A copy keeps the digest, so no dry-run device can pass that
// condition; the run ends there, at the last condition of load, with
// ErrImageMismatch, after every earlier command has run.
func checkProcess(b *testing.B, name string, err error) {
	if name != "example4" {
		if err != nil {
			b.Fatalf("Process: %v", err)
		}
		return
	}
	var ce *suit.CommandError
	if !errors.As(err, &ce) || ce.Sequence != "load" || ce.Component != 2 ||
		ce.Command != suit.CommandName(suit.CondImageMatch) || !errors.Is(err, suit.ErrImageMismatch) {
		b.Fatalf("Process: got %v, want image mismatch of load on component 2", err)
	}
}

// sign1 is a COSE_Sign1 without its tag.
type sign1 struct {
	_           struct{} `cbor:",toarray"`
	Protected   []byte
	Unprotected map[int64]cbor.RawMessage
	Payload     []byte
	Signature   []byte
}

// bareVerify is what a bare ES256 check of an example's one signature
// needs, all computed outside the timed loop.
type bareVerify struct {
	pub  *ecdsa.PublicKey
	tbs  []byte // encoded Sig_structure
	r, s *big.Int
}

// prepareBareVerify takes the COSE_Sign1 apart with fxamacker/cbor alone:
// the authentication wrapper is [digest bstr, block bstr...]; block 1 is
// tag 18 [protected, unprotected, nil, signature]; the Sig_structure is
// ["Signature1", protected, empty bstr, digest bstr content].
func prepareBareVerify(b *testing.B, env *suit.Envelope, pub *ecdsa.PublicKey) *bareVerify {
	var items [][]byte
	if err := cbor.Unmarshal(env.AuthWrapper, &items); err != nil {
		b.Fatalf("authentication wrapper: %v", err)
	}
	if len(items) != 2 {
		b.Fatalf("authentication wrapper of %d items, want 2", len(items))
	}
	var tag cbor.RawTag
	if err := cbor.Unmarshal(items[1], &tag); err != nil {
		b.Fatalf("authentication block: %v", err)
	}
	if tag.Number != 18 {
		b.Fatalf("authentication block tag %d, want 18 (COSE_Sign1)", tag.Number)
	}
	var msg sign1
	if err := cbor.Unmarshal(tag.Content, &msg); err != nil {
		b.Fatalf("COSE_Sign1: %v", err)
	}
	var prot map[int64]int64
	if err := cbor.Unmarshal(msg.Protected, &prot); err != nil || prot[1] != suit.AlgES256 {
		b.Fatalf("protected header %x (%v), want {1: -7}", msg.Protected, err)
	}
	if msg.Payload != nil || len(msg.Signature) != 64 {
		b.Fatalf("COSE_Sign1 payload %x, signature of %d bytes", msg.Payload, len(msg.Signature))
	}
	tbs, err := cbor.Marshal([]any{"Signature1", msg.Protected, []byte{}, items[0]})
	if err != nil {
		b.Fatal(err)
	}
	bv := &bareVerify{
		pub: pub,
		tbs: tbs,
		r:   new(big.Int).SetBytes(msg.Signature[:32]),
		s:   new(big.Int).SetBytes(msg.Signature[32:]),
	}
	if !bv.verify() {
		b.Fatal("bare ecdsa.Verify of the example's signature fails")
	}
	return bv
}

func (bv *bareVerify) verify() bool {
	d := sha256.Sum256(bv.tbs)
	return ecdsa.Verify(bv.pub, d[:], bv.r, bv.s)
}

// BenchmarkExamples measures, per signed example of draft-37 Appendix B:
//
//   - full: ParseEnvelope + Authenticate + Process on a fresh dry-run device;
//   - process-only: Process alone, on a manifest authenticated once before
//     the loop (a fresh device per iteration, as in full);
//   - ecdsa-verify: SHA-256 of the Sig_structure and ecdsa.Verify of the
//     example's one signature, nothing else.
func BenchmarkExamples(b *testing.B) {
	pemBytes, err := os.ReadFile(filepath.Join("testdata", "suit-manifest", "public-key.pem"))
	if err != nil {
		b.Fatal(err)
	}
	key, err := suit.ParsePublicKeyPEM(pemBytes)
	if err != nil {
		b.Fatal(err)
	}
	keys := []*suit.Key{key}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		b.Fatal("public-key.pem: no PEM block")
	}
	anyPub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		b.Fatal(err)
	}
	pub, ok := anyPub.(*ecdsa.PublicKey)
	if !ok {
		b.Fatalf("public-key.pem holds a %T, want ECDSA", anyPub)
	}

	for _, name := range signedExamples {
		data := readExample(b, name)
		b.Run(name, func(b *testing.B) {
			b.Run("full", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					env, err := suit.ParseEnvelope(data)
					if err != nil {
						b.Fatalf("ParseEnvelope: %v", err)
					}
					v, err := env.Authenticate(keys)
					if err != nil {
						b.Fatalf("Authenticate: %v", err)
					}
					_, err = suit.Process(b.Context(), v, benchDevice(name), suit.Options{})
					checkProcess(b, name, err)
				}
			})

			b.Run("process-only", func(b *testing.B) {
				env, err := suit.ParseEnvelope(data)
				if err != nil {
					b.Fatalf("ParseEnvelope: %v", err)
				}
				v, err := env.Authenticate(keys)
				if err != nil {
					b.Fatalf("Authenticate: %v", err)
				}
				b.ReportAllocs()
				for b.Loop() {
					_, err := suit.Process(b.Context(), v, benchDevice(name), suit.Options{})
					checkProcess(b, name, err)
				}
			})

			b.Run("ecdsa-verify", func(b *testing.B) {
				env, err := suit.ParseEnvelope(data)
				if err != nil {
					b.Fatalf("ParseEnvelope: %v", err)
				}
				bv := prepareBareVerify(b, env, pub)
				b.ReportAllocs()
				// Only SHA-256 of the Sig_structure and ecdsa.Verify run in the
				// loop: this is the baseline that "full" is compared with, the
				// unavoidable cost of checking the example's signature.
				for b.Loop() {
					if !bv.verify() {
						b.Fatal("ecdsa.Verify failed")
					}
				}
			})
		})
	}
}
