package author

import (
	"crypto/sha1" // RFC 9562 §5.5 defines version 5 UUIDs with SHA-1; nothing here relies on its collision resistance
	"fmt"
)

// NamespaceDNS is the name space ID of RFC 9562 §6.6 for fully qualified
// domain names: 6ba7b810-9dad-11d1-80b4-00c04fd430c8.
var NamespaceDNS = [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// NameUUID is the name-based version 5 UUID of name in namespace
// (RFC 9562 §5.5): the first 16 bytes of SHA-1(namespace || name) with
// the version and variant bits set. The same inputs always give the same
// UUID, so that an author and a device derive it apart.
func NameUUID(namespace [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // the variant of RFC 9562
	return u
}

// VendorID is the vendor ID that draft-ietf-suit-manifest-37 §8.4.8.1
// recommends: UUIDv5(NAMESPACE_DNS, the vendor's domain name).
func VendorID(domain string) [16]byte { return NameUUID(NamespaceDNS, domain) }

// ClassID is the class ID that draft-ietf-suit-manifest-37 §8.4.8.2
// recommends: UUIDv5(vendor ID, class-specific information) such as a
// model name and hardware revision.
func ClassID(vendorID [16]byte, class string) [16]byte { return NameUUID(vendorID, class) }

// FormatUUID writes a UUID in its text form, 8-4-4-4-12 lowercase hex.
func FormatUUID(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
