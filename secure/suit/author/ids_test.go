package author

import "testing"

// TestNameUUIDs checks the derivation against published values: the
// vendor and class IDs of every example of draft-ietf-suit-manifest-37
// Appendix B are those of "arm.com" and its class "suit"; Nordic
// Semiconductor's nRF Connect SDK documents its own pair.
func TestNameUUIDs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, domain, class string
		vendor, classID     string
	}{
		{"draft-37 Appendix B", "arm.com", "suit", "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "1492af14-2569-5e48-bf42-9b2d51f2ab45"},
		{"nRF Connect SDK", "nordicsemi.com", "nRF54H20_sample_app", "7617daa5-71fd-5a85-8f94-e28d735ce9f4", "08c1b599-55e8-5fbc-9e76-7bc29ce1b04d"},
		// RFC 9562 Appendix A.4: UUIDv5(NAMESPACE_DNS, "www.example.com").
		{"RFC 9562 A.4", "www.example.com", "", "2ed6657d-e927-568b-95e1-2665a8aea6a2", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := VendorID(tc.domain)
			if got := FormatUUID(v); got != tc.vendor {
				t.Errorf("VendorID(%q) = %s, want %s", tc.domain, got, tc.vendor)
			}
			if tc.classID == "" {
				return
			}
			if got := FormatUUID(ClassID(v, tc.class)); got != tc.classID {
				t.Errorf("ClassID(%q) = %s, want %s", tc.class, got, tc.classID)
			}
		})
	}
}
