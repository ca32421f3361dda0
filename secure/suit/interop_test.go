package suit

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// What other SUIT processors send that this one must take
// (draft-ietf-suit-update-management), each through the real decoder,
// authentication, the inspect path (ManifestUnverified) and the processor.

// envelopeFor signs manifest with a fresh Ed25519 key into an envelope that
// carries severable (severed members by key), and returns its encoding and
// the verification key.
func envelopeFor(t *testing.T, manifest []byte, severable map[int64][]byte) ([]byte, *Key) {
	t.Helper()
	d, err := DigestOf(AlgSHA256, bstrEncoding(manifest))
	if err != nil {
		t.Fatal(err)
	}
	env := &Envelope{Tagged: true, Manifest: manifest, AuthWrapper: (&Authentication{DigestBytes: d.Encode()}).Encode(),
		Severable: severable}
	k, err := GenerateSigningKey(AlgEd25519)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Sign(k); err != nil {
		t.Fatal(err)
	}
	pub, err := k.Public()
	if err != nil {
		t.Fatal(err)
	}
	return env.Encode(), pub
}

// manifestWith is a one-component ([00]) manifest, sequence number 1,
// whose install writes "image", with extra members added.
func manifestWith(extra map[int64]any) []byte {
	m := map[int64]any{
		KeyVersion: uint64(1), KeySequenceNumber: uint64(1),
		KeyCommon:  mustMarshal(map[int64]any{keyComponents: [][][]byte{{{0}}}}),
		KeyInstall: Sequence{set(Parameters{ParamContent: []byte("image")}), dir(DirWrite)}.Encode(),
	}
	for k, v := range extra {
		m[k] = v
	}
	return mustMarshal(m)
}

// handCoSWID is a concise-swid-tag (RFC 9393) built by hand:
//
//	{ 0: h'00112233445566778899aabbccddeeff',  / tag-id /
//	  12: 0,                                    / tag-version /
//	  1: "teeup firmware",                      / software-name /
//	  2: {31: "Example Ltd", 33: 1},            / entity: entity-name, role tag-creator /
//	  -1000: 1(1700000000) }                    / an extension with a tag /
const handCoSWID = "a5" +
	"00" + "50" + "00112233445566778899aabbccddeeff" +
	"0c" + "00" +
	"01" + "6e" + "7465657570206669726d77617265" +
	"02" + "a2" + "181f" + "6b" + "4578616d706c65204c7464" + "1821" + "01" +
	"3903e7" + "c1" + "1a6553f100"

// TestCoSWID: a manifest carrying suit-coswid (member 14) verifies, is
// described and processes, whether the CoSWID is inline, severed and
// supplied in the envelope (envelope member 14), or severed and not
// supplied. update-management: a recipient MUST NOT fail solely because
// a well-formed suit-coswid is present; it may fail on a malformed one.
// On 9d2e92e each was refused as an unsupported member.
func TestCoSWID(t *testing.T) {
	coswid := mustHexT(t, handCoSWID)
	if _, err := Diagnose(coswid); err != nil {
		t.Fatalf("the hand-built CoSWID is not well-formed: %v", err)
	}
	severedDigest, err := DigestOf(AlgSHA256, bstrEncoding(coswid))
	if err != nil {
		t.Fatal(err)
	}
	badDigest := Digest{Alg: AlgSHA256, Bytes: make([]byte, 32)}
	tests := []struct {
		name      string
		member    any // the manifest's member 14
		severable map[int64][]byte
		present   bool
		want      error
	}{
		{name: "inline", member: coswid, present: true},
		{name: "severed and supplied", member: cbor.RawMessage(severedDigest.Encode()), severable: map[int64][]byte{KeyCoSWID: coswid}, present: true},
		{name: "severed and not supplied", member: cbor.RawMessage(severedDigest.Encode())},
		{name: "severed with another digest", member: cbor.RawMessage(badDigest.Encode()), severable: map[int64][]byte{KeyCoSWID: coswid}, want: ErrDigestMismatch},
		{name: "inline and not well-formed", member: coswid[:len(coswid)-1], want: ErrMalformed},
		{name: "inline with trailing bytes", member: append(append([]byte{}, coswid...), 0), want: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, key := envelopeFor(t, manifestWith(map[int64]any{KeyCoSWID: tc.member}), tc.severable)
			env, err := ParseEnvelope(data)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			v, err := env.Authenticate([]*Key{key})
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("authenticate: %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("authenticate: %v", err)
			}
			m, err := env.ManifestUnverified()
			if err != nil {
				t.Fatalf("describe: %v", err)
			}
			mem := m.Members[KeyCoSWID]
			if mem == nil || mem.Present() != tc.present || (tc.present && string(mem.Bytes) != string(coswid)) {
				t.Fatalf("coswid member %+v, want present %v", mem, tc.present)
			}
			p := newMem()
			res, err := Process(context.Background(), v, p, Options{})
			if err != nil {
				t.Fatalf("process: %v\n%s", err, res.Trace())
			}
			if got := strings.Join(p.events, ","); got != `write [00] "image"` {
				t.Errorf("events %s", got)
			}
			if SequenceName(KeyCoSWID) != "coswid" {
				t.Errorf("member 14 is named %q", SequenceName(KeyCoSWID))
			}
		})
	}
}

// TestOverrideMultipleFirst: override-multiple is an alias of
// set-component-index and override-parameters (update-management), so
// it may open a sequence of a multi-component manifest, as
// set-component-index may, and leaves the last component it lists
// selected. On 9d2e92e such a sequence was refused.
func TestOverrideMultipleFirst(t *testing.T) {
	om := Command{Code: DirOverrideMultiple, Multiple: []IndexedParams{
		{Index: 0, Params: Parameters{ParamContent: []byte("zero")}},
		{Index: 1, Params: Parameters{ParamContent: []byte("one")}}}}
	tests := []struct {
		name            string
		shared, install Sequence
		want            string
	}{
		{name: "first in install", install: Sequence{om, dir(DirWrite), index(0), dir(DirWrite)},
			want: `write [01] "one",write [00] "zero"`},
		{name: "first in the shared sequence", shared: Sequence{om}, install: Sequence{index(0), dir(DirWrite), index(1), dir(DirWrite)},
			want: `write [00] "zero",write [01] "one"`},
		{name: "the same as set-component-index and override-parameters",
			install: Sequence{index(0), set(Parameters{ParamContent: []byte("zero")}), index(1), set(Parameters{ParamContent: []byte("one")}),
				dir(DirWrite), index(0), dir(DirWrite)},
			want: `write [01] "one",write [00] "zero"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := verifiedFor(t, 1, 2, tc.shared, tc.install)
			p := newMem()
			res, err := Process(context.Background(), v, p, Options{Sequences: []int64{KeyInstall}})
			if err != nil {
				t.Fatalf("process: %v\n%s", err, res.Trace())
			}
			if got := strings.Join(p.events, ","); got != tc.want {
				t.Errorf("events %s, want %s", got, tc.want)
			}
		})
	}
	// Any other first command of a multi-component sequence is still refused.
	v := verifiedFor(t, 1, 2, nil, Sequence{set(Parameters{ParamContent: []byte("x")}), dir(DirWrite)})
	if _, err := Process(context.Background(), v, newMem(), Options{Sequences: []int64{KeyInstall}}); !errors.Is(err, ErrMalformed) {
		t.Errorf("override-parameters first: %v, want ErrMalformed", err)
	}
}

// handMetadata is a SUIT_Component_Metadata built by hand:
//
//	{ 1: 0x1ff,                 / default-permissions /
//	  2: {"bob": 3},            / user-permissions: list_read|create_write... /
//	  5: 1,                     / file-type: regular /
//	  6: 1(1700000000),         / modification-time /
//	  8: 37(h'00..0f') }        / creator: a UUID /
const handMetadata = "a5" +
	"01" + "1901ff" +
	"02" + "a1" + "63626f62" + "03" +
	"05" + "01" +
	"06" + "c1" + "1a6553f100" +
	"08" + "d825" + "50" + "000102030405060708090a0b0c0d0e0f"

// TestComponentMetadata: a validly signed manifest that sets
// component-metadata (parameter 30) verifies and is described; processing
// declines the write it would apply to, saying why, as an unsupported
// parameter. On 9d2e92e the manifest did not even authenticate.
func TestComponentMetadata(t *testing.T) {
	md := mustHexT(t, handMetadata)
	install := func(raw []byte) []byte {
		// override-parameters {30: << metadata >>, 18: 'image'}, then write.
		seq := []any{uint64(DirOverrideParameters), map[int64]any{ParamComponentMetadata: raw, ParamContent: []byte("image")},
			uint64(DirWrite), uint64(15)}
		return mustMarshal(seq)
	}
	data, key := envelopeFor(t, manifestWith(map[int64]any{KeyInstall: install(md)}), nil)
	env, err := ParseEnvelope(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := env.Authenticate([]*Key{key})
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	m, err := env.ManifestUnverified()
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	got, ok := m.Members[KeyInstall].Commands[0].Params[ParamComponentMetadata].(ComponentMetadata)
	if !ok || string(got) != string(md) {
		t.Fatalf("decoded %v, %v", got, ok)
	}
	if want := `{1: 511, 2: {"bob": 3}, 5: 1, 6: 1(1700000000), 8: 37(h'000102030405060708090a0b0c0d0e0f')}`; got.String() != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if enc := m.Members[KeyInstall].Commands.Encode(); string(enc) != string(m.Members[KeyInstall].Bytes) {
		t.Errorf("install re-encodes to %x, want %x", enc, m.Members[KeyInstall].Bytes)
	}
	p := newMem()
	res, err := Process(context.Background(), v, p, Options{})
	if !errors.Is(err, ErrUnsupportedParameter) {
		t.Fatalf("process: %v, want ErrUnsupportedParameter\n%s", err, res.Trace())
	}
	var ce *CommandError
	var pe *ParameterError
	if !errors.As(err, &ce) || ce.Command != "directive-write" || ce.Component != 0 || !errors.As(err, &pe) || pe.Param != ParamComponentMetadata {
		t.Errorf("error %v does not name the write and the parameter", err)
	}
	if len(p.events) != 0 {
		t.Errorf("stored despite declining: %v", p.events)
	}
	if r := ReasonFor(err); r != ReasonParameterUnsupported {
		t.Errorf("report reason %v", r)
	}
	for _, c := range Capabilities(nil).Parameters {
		if c == ParamComponentMetadata {
			t.Error("the capability report claims component-metadata")
		}
	}

	// Metadata that breaks the draft's CDDL does not authenticate.
	for name, raw := range map[string]string{
		"time without tag 1":     "a1" + "06" + "1a6553f100",
		"text with a control":    "a1" + "08" + "62" + "610a",
		"empty permission map":   "a1" + "02" + "a0",
		"UUID of 3 bytes":        "a1" + "08" + "d825" + "43" + "000102",
		"permissions not a uint": "a1" + "01" + "20",
		"not a map":              "80",
		"duplicate member":       "a2" + "0501" + "0502",
	} {
		data, key := envelopeFor(t, manifestWith(map[int64]any{KeyInstall: install(mustHexT(t, raw))}), nil)
		env, err := ParseEnvelope(data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.Authenticate([]*Key{key}); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}
