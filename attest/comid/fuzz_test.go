package comid_test

import (
	"testing"

	"github.com/teeup/teeup/attest/comid"
)

// FuzzDecode: no input panics either decoder, and what decodes encodes to
// something that decodes again.
func FuzzDecode(f *testing.F) {
	e, _, _ := endorsement(f)
	if b, err := e.Encode(); err == nil {
		f.Add(b)
	}
	r := comid.ReferenceValues{Components: []comid.Reference{reference("['secure']", 1)}}
	if b, err := r.Encode(); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"components":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := comid.DecodeEndorsement(b); err == nil {
			out, err := e.Encode()
			if err != nil {
				t.Fatalf("a decoded endorsement does not encode: %v", err)
			}
			if _, err := comid.DecodeEndorsement(out); err != nil {
				t.Fatalf("re-decode: %v", err)
			}
		}
		if r, err := comid.DecodeReferenceValues(b); err == nil {
			out, err := r.Encode()
			if err != nil {
				t.Fatalf("decoded reference values do not encode: %v", err)
			}
			if _, err := comid.DecodeReferenceValues(out); err != nil {
				t.Fatalf("re-decode: %v", err)
			}
		}
	})
}
