package suit

import (
	"context"
	"errors"
)

// IdentityKind selects which identifier a condition checks.
type IdentityKind int

// The identifiers: vendor, class, device.
const (
	IdentityVendor IdentityKind = iota + 1
	IdentityClass
	IdentityDevice
)

func (k IdentityKind) String() string {
	switch k {
	case IdentityVendor:
		return "vendor"
	case IdentityClass:
		return "class"
	case IdentityDevice:
		return "device"
	}
	return "unknown"
}

// ErrNoImage is what a Platform returns when a component holds no image:
// image-match and check-content then fail as conditions (so that try-each
// can move on), not as platform faults.
var ErrNoImage = errors.New("suit: component holds no image")

// Target is the component a command applies to, with the parameters the
// manifest has set for it so far. Platforms must not keep Params past the
// call: the processor changes them as it runs.
type Target struct {
	Index  int
	ID     ComponentID
	Params *ParamSet
}

// Platform is the device side of the processor: the same processor runs in
// the secure world, the bootloader and the dry-run device, each with its
// own Platform. Implementations enforce their own access rules: a Platform
// may refuse a component it does not have (returning an ErrRejected
// error) and must treat the manifest as authenticated but not as
// authorized, which is the caller's policy.
//
// A Platform is used by one processing run at a time.
type Platform interface {
	// MatchIdentity reports whether the device has identifier id of this
	// kind for component t.
	MatchIdentity(kind IdentityKind, t Target, id []byte) (bool, error)
	// Slot returns the slot index the device designates for component t.
	Slot(t Target) (uint64, error)
	// SequenceNumber returns the highest manifest sequence number the
	// device has accepted for a component, 0 when none.
	SequenceNumber(id ComponentID) (uint64, error)
	// Fetch stores the payload found at uri into component t.
	Fetch(ctx context.Context, t Target, uri string) error
	// Write stores content into component t.
	Write(ctx context.Context, t Target, content []byte) error
	// Copy stores the content of src into dst.
	Copy(ctx context.Context, dst, src Target) error
	// Swap exchanges the contents of dst and src.
	Swap(ctx context.Context, dst, src Target) error
	// ImageDigest hashes component t with the SUIT digest algorithm alg
	// and returns the digest and the image size, or ErrNoImage.
	ImageDigest(t Target, alg int64) (sum []byte, size uint64, err error)
	// ReadContent returns the content of component t, at most limit bytes
	// (a longer component is returned cut to limit+1 bytes), or ErrNoImage.
	ReadContent(t Target, limit int) ([]byte, error)
	// Invoke transfers execution to component t with args.
	Invoke(ctx context.Context, t Target, args []byte) error
}

// DecryptingPlatform is a Platform that honours suit-parameter-encryption-info
// (draft-ietf-suit-firmware-encryption §4): when the target of Fetch, Write
// or Copy has encryption info in its parameters, the platform decrypts what
// it stores, streaming (NewDecryptWriter), so that the plaintext exists only
// inside the component that owns it, and keeps it only once Close of the
// decryptor returned nil (for AES-GCM, once the tag verified).
//
// The processor refuses those commands, as ErrUnsupported, on a platform
// that does not implement this interface: no platform may store ciphertext
// where the manifest expects the image.
type DecryptingPlatform interface {
	Platform
	// DecryptsPayloads states that Fetch, Write and Copy decrypt.
	DecryptsPayloads()
}
