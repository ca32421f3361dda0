package comid

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"
)

// The kinds of component (as the EAT's components name them).
const (
	KindImage = "image" // a firmware image the bootloader boots and measures
	KindTA    = "ta"    // a Trusted Application the secure world installed
)

// Reference is what an author publishes of one version of one component
// (CoMID reference-triple: the component's environment, measurement key
// the component, measurement values the version, the digests and the
// signers' keys).
type Reference struct {
	// Component is the SUIT component identifier in its text form, as the
	// EAT and the event log name it.
	Component string `json:"component"`
	Kind      string `json:"kind"`
	// SequenceNumber is the manifest's sequence number: the version.
	SequenceNumber uint64 `json:"sequence_number"`
	// Digest is the SHA-256 of the image; ManifestDigest the SHA-256 of
	// the SUIT manifest that installs it.
	Digest         Hex `json:"digest"`
	ManifestDigest Hex `json:"manifest_digest"`
	// Signers are the keys that signed the manifest, each the SHA-256 of
	// its SubjectPublicKeyInfo.
	Signers []Hex `json:"signers"`
}

// ReferenceValues are an author's (or a publisher's) reference values.
type ReferenceValues struct {
	// Class is the device class they apply to; empty for any.
	Class      Class       `json:"class"`
	Components []Reference `json:"components"`
}

// DecodeReferenceValues decodes and checks reference values.
func DecodeReferenceValues(b []byte) (*ReferenceValues, error) {
	var r ReferenceValues
	if err := decode(b, &r); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Encode encodes the reference values, indented, components in order.
func (r *ReferenceValues) Encode() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return encode(r)
}

// Add adds references, each in the place of one of the same component
// and sequence number, and keeps the list sorted by component and version.
func (r *ReferenceValues) Add(refs ...Reference) {
	for _, ref := range refs {
		i := slices.IndexFunc(r.Components, func(o Reference) bool {
			return o.Component == ref.Component && o.SequenceNumber == ref.SequenceNumber
		})
		if i >= 0 {
			r.Components[i] = ref
		} else {
			r.Components = append(r.Components, ref)
		}
	}
	slices.SortFunc(r.Components, func(a, b Reference) int {
		return cmp.Or(cmp.Compare(a.Component, b.Component), cmp.Compare(a.SequenceNumber, b.SequenceNumber))
	})
}

// Lookup returns the reference of a component's version.
func (r *ReferenceValues) Lookup(component string, seq uint64) (Reference, bool) {
	for _, ref := range r.Components {
		if ref.Component == component && ref.SequenceNumber == seq {
			return ref, true
		}
	}
	return Reference{}, false
}

// Validate checks the bounds and that no component version is listed twice.
func (r *ReferenceValues) Validate() error {
	if len(r.Components) > MaxReferences {
		return fmt.Errorf("%w: %d references, limit %d", ErrMalformed, len(r.Components), MaxReferences)
	}
	type version struct {
		component string
		seq       uint64
	}
	seen := map[version]bool{}
	for i, ref := range r.Components {
		switch {
		case ref.Component == "" || len(ref.Component) > MaxText:
			return fmt.Errorf("%w: reference %d: component name of %d bytes", ErrMalformed, i, len(ref.Component))
		case ref.Kind != KindImage && ref.Kind != KindTA:
			return fmt.Errorf("%w: reference %s: kind %q, want %q or %q", ErrMalformed, ref.Component, ref.Kind, KindImage, KindTA)
		case len(ref.Digest) != sha256.Size || len(ref.ManifestDigest) != sha256.Size:
			return fmt.Errorf("%w: reference %s: digests of %d and %d bytes, want SHA-256", ErrMalformed, ref.Component, len(ref.Digest), len(ref.ManifestDigest))
		case len(ref.Signers) == 0 || len(ref.Signers) > MaxSigners:
			return fmt.Errorf("%w: reference %s: %d signers, want 1..%d", ErrMalformed, ref.Component, len(ref.Signers), MaxSigners)
		case seen[version{ref.Component, ref.SequenceNumber}]:
			return fmt.Errorf("%w: reference %s sequence %d listed twice", ErrMalformed, ref.Component, ref.SequenceNumber)
		}
		for _, s := range ref.Signers {
			if len(s) != sha256.Size {
				return fmt.Errorf("%w: reference %s: a signer of %d bytes, want a SHA-256 key ID", ErrMalformed, ref.Component, len(s))
			}
		}
		seen[version{ref.Component, ref.SequenceNumber}] = true
	}
	return nil
}
