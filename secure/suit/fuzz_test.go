package suit

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// FuzzParseEnvelope feeds arbitrary bytes to the envelope codec.
//
// Properties:
//   - nothing panics (ParseEnvelope, Encode, ManifestUnverified, Authenticate);
//   - every error that refuses the input is an ErrRejected;
//   - a parsed envelope re-encodes to bytes that parse again, and that
//     encoding is a fixed point: parsing and encoding it once more gives
//     the same bytes. In particular an input in deterministic encoding
//     (Encode() == input) round-trips byte for byte twice.
func FuzzParseEnvelope(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "suit-manifest", "*.hex"))
	if err != nil {
		f.Fatal(err)
	}
	if len(files) == 0 {
		f.Fatal("no .hex vectors under testdata/suit-manifest")
	}
	for _, file := range files {
		data := readHexVector(f, filepath.Join("suit-manifest", filepath.Base(file)))
		f.Add(data)
		// A few truncations: they must all be refused, and they give the
		// fuzzer starting points inside the structure.
		for _, n := range []int{0, 1, 2, len(data) / 4, len(data) / 2, len(data) - 1} {
			if n >= 0 && n < len(data) {
				f.Add(data[:n])
			}
		}
	}
	// Hand-built envelopes whose COSE headers the parser must refuse.
	crit, err := filepath.Glob(filepath.Join("testdata", "crit", "*.hex"))
	if err != nil || len(crit) == 0 {
		f.Fatalf("no .hex vectors under testdata/crit: %v", err)
	}
	for _, file := range crit {
		f.Add(readHexVector(f, filepath.Join("crit", filepath.Base(file))))
	}
	// update-management members: suit-coswid severed into the envelope
	// (member 14), component-metadata in the install sequence.
	coswid := mustHexT(f, handCoSWID)
	cd, _ := DigestOf(AlgSHA256, bstrEncoding(coswid))
	install := mustMarshal([]any{DirOverrideParameters, map[int64]any{ParamComponentMetadata: mustHexT(f, handMetadata),
		ParamContent: []byte("image")}, DirWrite, 15})
	manifest := manifestWith(map[int64]any{KeyCoSWID: cbor.RawMessage(cd.Encode()), KeyInstall: install})
	md, _ := DigestOf(AlgSHA256, bstrEncoding(manifest))
	f.Add((&Envelope{Tagged: true, Manifest: manifest, AuthWrapper: (&Authentication{DigestBytes: md.Encode()}).Encode(),
		Severable: map[int64][]byte{KeyCoSWID: coswid}}).Encode())
	key := readPublicKey(f, "suit-manifest/public-key.pem")
	keys := []*Key{key}

	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelope(data)
		if err != nil {
			if env != nil {
				t.Fatalf("ParseEnvelope returned an envelope with error %v", err)
			}
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("ParseEnvelope error is not ErrRejected: %v", err)
			}
			return
		}

		enc1 := env.Encode()
		deterministic := bytes.Equal(enc1, data)
		env2, err := ParseEnvelope(enc1)
		if err != nil {
			t.Fatalf("re-encoded envelope does not parse: %v\ninput   %x\nencoded %x", err, data, enc1)
		}
		enc2 := env2.Encode()
		if !bytes.Equal(enc2, enc1) {
			t.Fatalf("encoding is not a fixed point (input deterministic: %v):\nfirst  %x\nsecond %x", deterministic, enc1, enc2)
		}
		if env2.Tagged != env.Tagged || !bytes.Equal(env2.Manifest, env.Manifest) || !bytes.Equal(env2.AuthWrapper, env.AuthWrapper) ||
			len(env2.Severable) != len(env.Severable) || len(env2.Integrated) != len(env.Integrated) {
			t.Fatalf("round trip changed the envelope: %+v != %+v", env2, env)
		}

		if _, err := env.ManifestUnverified(); err != nil && !errors.Is(err, ErrRejected) {
			t.Fatalf("ManifestUnverified error is not ErrRejected: %v", err)
		}
		v, err := env.Authenticate(keys)
		if err != nil {
			if v != nil {
				t.Fatalf("Authenticate returned a Verified with error %v", err)
			}
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("Authenticate error is not ErrRejected: %v", err)
			}
			return
		}
		if v.Manifest == nil || !v.SignedBy(key.ID) {
			t.Fatalf("Authenticate succeeded without a manifest or without the key: %+v", v)
		}
	})
}

// TestEnvelopeStrictPrefixesFail checks that no strict prefix of a valid
// envelope parses: an envelope is one CBOR data item, so a cut one is
// always incomplete.
func TestEnvelopeStrictPrefixesFail(t *testing.T) {
	if len(manifestVectors) != 13 {
		t.Fatalf("%d manifest vectors, want the 13 of Appendix B", len(manifestVectors))
	}
	for _, v := range manifestVectors {
		t.Run(v.file, func(t *testing.T) {
			data := readHexVector(t, "suit-manifest/"+v.file)
			if _, err := ParseEnvelope(data); err != nil {
				t.Fatalf("full vector does not parse: %v", err)
			}
			for n := 0; n < len(data); n++ {
				env, err := ParseEnvelope(data[:n])
				if err == nil {
					t.Fatalf("prefix of %d/%d bytes parses: %+v", n, len(data), env)
				}
				if !errors.Is(err, ErrRejected) {
					t.Fatalf("prefix of %d/%d bytes: error is not ErrRejected: %v", n, len(data), err)
				}
			}
		})
	}
}

// FuzzParseEncryptionInfo feeds arbitrary bytes to the encryption-info
// decoder, seeded from the four published encryption infos and the ones
// inside the five firmware-encryption manifests.
//
// Properties: nothing panics; every error is an ErrRejected; a parsed
// info re-encodes to bytes that parse to the same info and encode again
// to the same bytes; an input in deterministic encoding round-trips byte
// for byte.
func FuzzParseEncryptionInfo(f *testing.F) {
	for _, v := range encryptionVectors {
		raw, _ := readEncryptionVector(f, v.name)
		f.Add(raw)
	}
	for _, v := range encryptedManifests {
		env, err := ParseEnvelope(readHexVector(f, "suit-firmware-encryption/"+v.file))
		if err != nil {
			f.Fatal(err)
		}
		m, err := env.ManifestUnverified()
		if err != nil {
			f.Fatal(err)
		}
		for _, mem := range m.Members {
			for _, c := range mem.Commands {
				if raw, ok := c.Params.Bytes(ParamEncryptionInfo); ok {
					f.Add(raw)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParseEncryptionInfo(data)
		if err != nil {
			if info != nil || !errors.Is(err, ErrRejected) {
				t.Fatalf("ParseEncryptionInfo = %v, %v", info, err)
			}
			return
		}
		enc := info.Encode()
		again, err := ParseEncryptionInfo(enc)
		if err != nil {
			t.Fatalf("re-encoded info does not parse: %v\ninput   %x\nencoded %x", err, data, enc)
		}
		if !bytes.Equal(again.Encode(), enc) {
			t.Fatalf("encoding is not a fixed point:\n%x\n%x", enc, again.Encode())
		}
		if again.Alg != info.Alg || !bytes.Equal(again.IV, info.IV) || len(again.Recipients) != len(info.Recipients) {
			t.Fatalf("round trip changed the info: %+v != %+v", again, info)
		}
	})
}

// FuzzParseReport feeds arbitrary bytes to the report parser and to the
// signed-report verifier, seeded from reports the processor produced
// (with records, system properties, a failure result, a capability
// report), unsigned, signed and MAC'd.
//
// Properties: nothing panics; every error is an ErrRejected; a parsed
// report re-encodes to bytes that parse and encode again to the same
// bytes; deterministic input round-trips byte for byte.
func FuzzParseReport(f *testing.F) {
	digest := Digest{Alg: AlgSHA256, Bytes: make([]byte, 32)}
	seeds := []*Report{
		{ManifestDigest: digest},
		{ManifestURI: "https://example.com/m.suit", ManifestDigest: digest, Nonce: []byte{1, 2},
			Records: []ReportEntry{
				&ReportRecord{ManifestID: []uint64{1}, Section: KeyInstall, Offset: 7, Component: 1,
					Properties: Parameters{ParamImageDigest: digest, ParamImageSize: uint64(5)}},
				&SystemProperties{Component: ComponentID{{0}}, Properties: Parameters{ParamVendorID: make([]byte, 16)}},
			},
			Result:       &ReportResult{Code: 44, Reason: ReasonConditionFailed, Record: ReportRecord{Section: 3}},
			Capabilities: Capabilities([]ComponentCapability{{ID: ComponentID{{0}}}, {ID: ComponentID{[]byte("ta")}, Wildcard: true}})},
	}
	key, err := NewMACSigningKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	pub, _ := key.Public()
	ecKey, _ := GenerateSigningKey(AlgES256)
	ecPub, _ := ecKey.Public()
	for _, rep := range seeds {
		f.Add(rep.Encode())
		for _, k := range []*SigningKey{key, ecKey} {
			signed, err := rep.Sign(k)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(signed)
		}
	}
	keys := []*Key{pub, ecPub}
	f.Fuzz(func(t *testing.T, data []byte) {
		if rep, _, err := VerifyReport(data, keys); err != nil {
			if rep != nil || !errors.Is(err, ErrRejected) {
				t.Fatalf("VerifyReport = %v, %v", rep, err)
			}
		}
		rep, err := ParseReport(data)
		if err != nil {
			if rep != nil || !errors.Is(err, ErrRejected) {
				t.Fatalf("ParseReport = %v, %v", rep, err)
			}
			return
		}
		enc := rep.Encode()
		again, err := ParseReport(enc)
		if err != nil {
			t.Fatalf("re-encoded report does not parse: %v\ninput   %x\nencoded %x", err, data, enc)
		}
		if !bytes.Equal(again.Encode(), enc) {
			t.Fatalf("encoding is not a fixed point:\n%x\n%x", enc, again.Encode())
		}
		if _, err := Diagnose(enc); err != nil {
			t.Fatalf("Diagnose: %v", err)
		}
	})
}
