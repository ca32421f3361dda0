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
	twoBadSequences := manifestWith(map[int64]any{KeyValidate: []byte{0xff}, KeyLoad: []byte{0x80}})
	withDeps := func(deps string) []byte {
		common := mustHexT(t, "a2"+"02"+"81"+"81"+"4100"+"01"+deps) // {2: [[h'00']], 1: deps}
		return manifestWith(map[int64]any{KeyCommon: common})
	}
	info, _ := readEncryptionVector(t, "aes-kw-aes-gcm")
	// The unprotected header {5: iv} with two labels no profile allows.
	twoLabels := bytes.Replace(info, mustHexT(t, "a1054c"), mustHexT(t, "a3"+"0700"+"0600"+"054c"), 1)
	// A COSE_Key wrong in both its key type and its curve.
	p256 := "5820" + strings.Repeat("11", 32)
	wrongKey := mustHexT(t, "a4"+"0101"+"2004"+"21"+p256+"22"+p256)

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
	tests := []struct {
		name  string
		run   func() refusal
		want  error
		names string // what the error must name
	}{
		{"two severed members that do not match", authenticate(severedTwice, map[int64][]byte{KeyPayloadFetch: {0x80}, KeyInstall: {0x80}}),
			ErrDigestMismatch, "payload-fetch"},
		{"two malformed sequences", authenticate(twoBadSequences, nil), ErrMalformed, "validate"},
		{"two dependency indices out of range", authenticate(withDeps("a2"+"1864a0"+"18c8a0"), nil), ErrMalformed, "dependency index 100"},
		{"two dependencies with neither component nor prefix", authenticate(withDeps("a2"+"05a0"+"06a0"), nil), ErrMalformed, "dependency 5"},
		{"two unknown header labels", func() refusal { _, err := ParseEncryptionInfo(twoLabels); return refusal{err: err} },
			ErrUnsupportedCOSE, "header label 6"},
		{"a COSE_Key wrong twice", func() refusal { _, err := readP256Key(wrongKey); return refusal{err: err} },
			ErrUnsupportedCOSE, "parameter 1 "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := tc.run()
			if !errors.Is(first.err, tc.want) || !strings.Contains(first.err.Error(), tc.names) {
				t.Fatalf("%v, want %v naming %q", first.err, tc.want, tc.names)
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
