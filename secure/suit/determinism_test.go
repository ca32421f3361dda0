package suit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// repeats is how often each input is refused: an error that followed Go's
// map order shows two texts among repeats runs with probability
// 1 - 2^-(repeats-1) or more for a map of two.
const repeats = 100

// TestErrorsDeterministic refuses inputs that are wrong in two places at
// once, each many times: the error must name the same place every time
// (the first in key or array order), and the failure report must be the
// same bytes. On 9d2e92e each of these followed Go's map order.
func TestErrorsDeterministic(t *testing.T) {
	bad := Digest{Alg: AlgSHA256, Bytes: make([]byte, 32)}
	severedTwice := manifestWith(map[int64]any{
		KeyPayloadFetch: cbor.RawMessage(bad.Encode()),
		KeyInstall:      cbor.RawMessage(bad.Encode()),
	})
	severedOnce := manifestWith(map[int64]any{KeyPayloadFetch: cbor.RawMessage(bad.Encode())})
	twoBadSequences := manifestWith(map[int64]any{KeyValidate: []byte{0xff}, KeyLoad: []byte{0x80}})
	oneBadSequence := manifestWith(map[int64]any{KeyValidate: []byte{0xff}})
	withDeps := func(deps string) []byte {
		common := mustHexT(t, "a2"+"02"+"81"+"81"+"4100"+"01"+deps) // {2: [[h'00']], 1: deps}
		return manifestWith(map[int64]any{KeyCommon: common})
	}
	info, _ := readEncryptionVector(t, "aes-kw-aes-gcm")
	// The unprotected header {5: iv} with two labels no profile allows.
	twoLabels := bytes.Replace(info, mustHexT(t, "a1054c"), mustHexT(t, "a3"+"0700"+"0600"+"054c"), 1)
	oneLabel := bytes.Replace(info, mustHexT(t, "a1054c"), mustHexT(t, "a2"+"0600"+"054c"), 1)
	// A COSE_Key wrong in both its key type and its curve.
	p256 := "5820" + strings.Repeat("11", 32)
	wrongKey := mustHexT(t, "a4"+"0101"+"2004"+"21"+p256+"22"+p256)
	wrongKty := mustHexT(t, "a4"+"0101"+"2001"+"21"+p256+"22"+p256)

	type refusal struct {
		err    error
		report []byte // the failure report, when the input is an envelope
	}
	authenticate := func(manifest []byte, severable map[int64][]byte) func() refusal {
		data, key := envelopeFor(t, manifest, severable)
		return func() refusal {
			env, err := ParseEnvelope(data)
			if err == nil {
				_, err = env.Authenticate([]*Key{key})
			}
			return refusal{err, NewFailureReport(data, err, ReportOptions{Capabilities: true}).Encode()}
		}
	}
	encInfo := func(b []byte) func() refusal {
		return func() refusal { _, err := ParseEncryptionInfo(b); return refusal{err: err} }
	}
	p256Key := func(b []byte) func() refusal {
		return func() refusal { _, err := readP256Key(b); return refusal{err: err} }
	}
	// alone is the same input wrong only in the place the error must
	// name (the first): both must be refused with the same message.
	tests := []struct {
		name       string
		run, alone func() refusal
		want       error
	}{
		{"two severed members that do not match", authenticate(severedTwice, map[int64][]byte{KeyPayloadFetch: {0x80}, KeyInstall: {0x80}}),
			authenticate(severedOnce, map[int64][]byte{KeyPayloadFetch: {0x80}}), ErrDigestMismatch},
		{"two malformed sequences", authenticate(twoBadSequences, nil), authenticate(oneBadSequence, nil), ErrMalformed},
		{"two dependency indices out of range", authenticate(withDeps("a2"+"1864a0"+"18c8a0"), nil),
			authenticate(withDeps("a1"+"1864a0"), nil), ErrMalformed},
		{"two dependencies with neither component nor prefix", authenticate(withDeps("a2"+"05a0"+"06a0"), nil),
			authenticate(withDeps("a1"+"05a0"), nil), ErrMalformed},
		{"two unknown header labels", encInfo(twoLabels), encInfo(oneLabel), ErrUnsupportedCOSE},
		{"a COSE_Key wrong twice", p256Key(wrongKey), p256Key(wrongKty), ErrUnsupportedCOSE},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := tc.run()
			alone := tc.alone()
			if !errors.Is(first.err, tc.want) || !errors.Is(alone.err, tc.want) || first.err.Error() != alone.err.Error() {
				t.Fatalf("%v, want %v as for the first place alone: %v", first.err, tc.want, alone.err)
			}
			for range repeats {
				again := tc.run()
				if again.err.Error() != first.err.Error() || !bytes.Equal(again.report, first.report) {
					t.Fatalf("the same input refused two ways:\n%v\n%v\nreports %s\n        %s", first.err, again.err,
						hex.EncodeToString(first.report), hex.EncodeToString(again.report))
				}
			}
		})
	}
}
