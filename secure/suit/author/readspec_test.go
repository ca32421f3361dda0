package author

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestReadSpecDerivedIDs: IDs derived from names stand for those a spec
// leaves out, agree with those it names, and a spec that names others is
// refused with ErrIDConflict rather than silently overridden.
func TestReadSpecDerivedIDs(t *testing.T) {
	t.Parallel()
	vendor := VendorID("arm.com")
	class := ClassID(vendor, "suit")
	opts := SpecOptions{VendorID: vendor[:], ClassID: class[:]}
	const comps = `"components": [{"id": ["00"], "content": "00"}]`
	for _, tc := range []struct {
		name, spec string
		err        error
	}{
		{"derived only", `{"sequence-number": 1, ` + comps + `}`, nil},
		{"named and equal", `{"sequence-number": 1, "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe",
		  "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45", ` + comps + `}`, nil},
		{"another vendor", `{"sequence-number": 1, "vendor-id": "cfbff0d1-9375-5685-968c-48ce8b15ae17", ` + comps + `}`, ErrIDConflict},
		{"another class", `{"sequence-number": 1, "class-id": "872cf636-81a6-5e8b-8164-8bff12a3adbd", ` + comps + `}`, ErrIDConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := ReadSpec(strings.NewReader(tc.spec), "spec", t.TempDir(), opts)
			if !errors.Is(err, tc.err) {
				t.Fatalf("ReadSpec = %v, want %v", err, tc.err)
			}
			if err == nil && (!bytes.Equal(m.VendorID, vendor[:]) || !bytes.Equal(m.ClassID, class[:])) {
				t.Errorf("IDs %x %x, want %x %x", m.VendorID, m.ClassID, vendor, class)
			}
		})
	}
	// Without derived IDs a spec must name both.
	if _, err := ReadSpec(strings.NewReader(`{"sequence-number": 1, `+comps+`}`), "spec", t.TempDir(), SpecOptions{}); err == nil {
		t.Error("a spec without vendor-id was accepted")
	}
}

// TestReadSpecBounded: a spec larger than MaxSpecSize is refused before it
// is decoded.
func TestReadSpecBounded(t *testing.T) {
	t.Parallel()
	big := `{"sequence-number": 1, "text": {"en": {"manifest-description": "` + strings.Repeat("x", MaxSpecSize) + `"}}}`
	if _, err := ReadSpec(strings.NewReader(big), "spec", t.TempDir(), SpecOptions{}); !errors.Is(err, ErrSpecTooLarge) {
		t.Errorf("ReadSpec of %d bytes = %v", len(big), err)
	}
}
