package comid

import (
	"bytes"
	"errors"
	"fmt"
)

// The ways a claimed component version fails to match the reference
// values, each errors.Is ErrNotReference.
var (
	// ErrNotReference is the root of every mismatch.
	ErrNotReference = errors.New("comid: not a published reference")
	// ErrUnknownComponent: no version of the component is published.
	ErrUnknownComponent = fmt.Errorf("%w: no version of the component is published", ErrNotReference)
	// ErrBelowReference: the version is older than every published one.
	ErrBelowReference = fmt.Errorf("%w: below the published versions", ErrNotReference)
	// ErrUnpublishedVersion: the version is not published (but others, not
	// all newer, are).
	ErrUnpublishedVersion = fmt.Errorf("%w: the version is not published", ErrNotReference)
	// ErrDigest: the image or manifest digest is not the published one.
	ErrDigest = fmt.Errorf("%w: a digest no author published", ErrNotReference)
	// ErrSigner: the signer is not one of the version's published signers.
	ErrSigner = fmt.Errorf("%w: a signer no author published", ErrNotReference)
)

// Claimed is one component version as a device claims it.
type Claimed struct {
	Component              string
	Kind                   string
	SequenceNumber         uint64
	Digest, ManifestDigest []byte
	Signer                 []byte
}

// Match checks a claimed component version against the reference values:
// a version of that component and kind published with the same image and
// manifest digests, signed by the claimed signer. The error says which
// part does not match.
func (r *ReferenceValues) Match(c Claimed) error {
	var ref *Reference
	older := true
	for i := range r.Components {
		o := &r.Components[i]
		if o.Component != c.Component || o.Kind != c.Kind {
			continue
		}
		if o.SequenceNumber <= c.SequenceNumber {
			older = false
		}
		if o.SequenceNumber == c.SequenceNumber {
			ref = o
		}
	}
	switch {
	case ref == nil && older && r.hasComponent(c):
		return fmt.Errorf("%w: %s %s sequence %d", ErrBelowReference, c.Kind, c.Component, c.SequenceNumber)
	case ref == nil && r.hasComponent(c):
		return fmt.Errorf("%w: %s %s sequence %d", ErrUnpublishedVersion, c.Kind, c.Component, c.SequenceNumber)
	case ref == nil:
		return fmt.Errorf("%w: %s %s", ErrUnknownComponent, c.Kind, c.Component)
	case !bytes.Equal(ref.Digest, c.Digest):
		return fmt.Errorf("%w: %s %s sequence %d: image %x", ErrDigest, c.Kind, c.Component, c.SequenceNumber, c.Digest)
	case !bytes.Equal(ref.ManifestDigest, c.ManifestDigest):
		return fmt.Errorf("%w: %s %s sequence %d: manifest %x", ErrDigest, c.Kind, c.Component, c.SequenceNumber, c.ManifestDigest)
	}
	for _, s := range ref.Signers {
		if bytes.Equal(s, c.Signer) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s %s sequence %d: signer %x", ErrSigner, c.Kind, c.Component, c.SequenceNumber, c.Signer)
}

func (r *ReferenceValues) hasComponent(c Claimed) bool {
	for _, o := range r.Components {
		if o.Component == c.Component && o.Kind == c.Kind {
			return true
		}
	}
	return false
}
