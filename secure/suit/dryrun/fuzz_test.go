package dryrun_test

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

// signedExamples are the signed envelopes of draft-ietf-suit-manifest-37
// Appendix B, by name (file name without .hex).
var signedExamples = []string{
	"example0", "example1", "example2", "example2-severed", "example3", "example4", "example5",
}

// readExample reads suit-manifest/<name>.hex, whitespace ignored.
func readExample(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "suit-manifest", name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
	if err != nil {
		t.Fatalf("%s.hex: %v", name, err)
	}
	return b
}

// signManifest builds a tagged envelope around manifest, with a fresh
// authentication wrapper signed by key, using only the exported API (the
// bstr wrapping that the digest covers is done with cbor.Marshal).
func signManifest(t testing.TB, manifest []byte, key *suit.SigningKey) *suit.Envelope {
	t.Helper()
	wrapped, err := cbor.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	d, err := suit.DigestOf(suit.AlgSHA256, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	auth := &suit.Authentication{DigestBytes: d.Encode()}
	env := &suit.Envelope{
		Tagged:      true,
		AuthWrapper: auth.Encode(),
		Manifest:    manifest,
		Severable:   map[int64][]byte{},
		Integrated:  map[string][]byte{},
	}
	if err := env.Sign(key); err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return env
}

// FuzzProcess runs fuzzed manifest bytes through the processor. The
// manifest is signed with a fresh key so that Authenticate gets as far as
// decoding it and Process sees everything that decodes.
//
// Properties: nothing panics; signing and authenticating round-trip (no
// digest or signature failure); every error of Authenticate is ErrRejected;
// every error of Process is ErrRejected or, from the dry-run device's
// copy, swap and invoke of a component without an image, suit.ErrNoImage
// (a platform error that the processor passes through unchanged).
func FuzzProcess(f *testing.F) {
	for _, name := range signedExamples {
		env, err := suit.ParseEnvelope(readExample(f, name))
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		f.Add(env.Manifest)
	}
	// The companion drafts' manifests: encryption info, dependencies,
	// integrated dependencies (absent here: the fuzzed manifest travels
	// alone), update management through the same decoder.
	for _, rel := range []string{"suit-trust-domains/example0_dependent.hex", "suit-trust-domains/example1_process.hex",
		"suit-trust-domains/example2_integrated.hex", "suit-firmware-encryption/suit-manifest-aes-kw.hex.signed",
		"suit-firmware-encryption/suit-manifest-es-ecdh-dependency.hex.signed"} {
		raw, err := os.ReadFile(filepath.Join("testdata", rel))
		if err != nil {
			f.Fatal(err)
		}
		env, err := suit.ParseEnvelope(hexBytes(f, raw))
		if err != nil {
			f.Fatalf("%s: %v", rel, err)
		}
		f.Add(env.Manifest)
	}
	// update-management as other processors send it: suit-coswid, an
	// install that opens with override-multiple, component-metadata.
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		f.Fatal(err)
	}
	enc := func(v any) []byte {
		b, err := em.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	metadata := enc(map[int]any{1: 0x1ff, 5: 1, 6: cbor.Tag{Number: 1, Content: 1700000000}, 8: "alice"})
	f.Add(enc(map[int]any{1: 1, 2: 1,
		suit.KeyCommon: enc(map[int]any{2: [][][]byte{{{0}}, {{1}}}}),
		suit.KeyCoSWID: enc(map[int]any{0: "teeup-fw-1", 12: 0, 1: "teeup", -1000: cbor.Tag{Number: 1, Content: 0}}),
		suit.KeyInstall: enc([]any{
			suit.DirOverrideMultiple, map[int]any{0: map[int]any{suit.ParamContent: []byte("zero")},
				1: map[int]any{suit.ParamComponentMetadata: metadata, suit.ParamContent: []byte("one")}},
			suit.DirSetComponentIndex, 0, suit.DirWrite, 15, suit.DirSetComponentIndex, 1, suit.DirWrite, 15}),
	}))
	key, err := suit.GenerateSigningKey(suit.AlgES256)
	if err != nil {
		f.Fatal(err)
	}
	pub, err := key.Public()
	if err != nil {
		f.Fatal(err)
	}
	keys := []*suit.Key{pub}

	f.Fuzz(func(t *testing.T, manifest []byte) {
		if len(manifest) > suit.MaxManifestSize {
			return
		}
		env := signManifest(t, manifest, key)
		v, err := env.Authenticate(keys)
		if err != nil {
			if !errors.Is(err, suit.ErrRejected) {
				t.Fatalf("Authenticate error is not ErrRejected: %v", err)
			}
			if errors.Is(err, suit.ErrBadSignature) || errors.Is(err, suit.ErrDigestMismatch) || errors.Is(err, suit.ErrUnauthenticated) {
				t.Fatalf("freshly signed manifest does not authenticate: %v", err)
			}
			return
		}
		dev := &dryrun.Device{SimulateMissingPayloadsUnsafe: true, KEK: []byte("aaaaaaaaaaaaaaaa")}
		anchors := suit.TrustAnchors{{Key: keys[0], Prefixes: []suit.ComponentID{{}}}}
		res, err := suit.Process(t.Context(), v, dev, suit.Options{Authorizer: anchors, Report: true})
		if res == nil {
			t.Fatalf("Process returned no result (error %v)", err)
		}
		if err != nil && !errors.Is(err, suit.ErrRejected) && !errors.Is(err, suit.ErrNoImage) {
			t.Fatalf("Process error is neither ErrRejected nor ErrNoImage: %v", err)
		}
		_ = res.Trace()
		if _, perr := suit.ParseReport(suit.NewReport(v, res, err, suit.ReportOptions{}).Encode()); perr != nil {
			t.Fatalf("the report of the run does not parse: %v", perr)
		}
	})
}
