package boot

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/teeup/teeup/secure/suit"
)

// Image describes a verified image.
type Image struct {
	Component      Component `json:"component"`
	SequenceNumber uint64    `json:"sequence_number"`
	ManifestDigest []byte    `json:"manifest_digest"` // SUIT digest of the manifest (SHA-256)
	ImageDigest    []byte    `json:"image_digest"`    // SHA-256 of the image
	Size           int       `json:"size"`
	// Signers are the IDs of the keys that signed its manifest (hex
	// SHA-256 of each SubjectPublicKeyInfo, in block order), which the
	// device's evidence names.
	Signers []string `json:"signers,omitempty"`
}

// verifySlot checks the image in a slot against its stored envelope:
// signature and authorization under the policy, a manifest about exactly
// this component, the sequence number against the counter, and the
// validate sequence (image-match) run by the SUIT processor on the slot.
func (d *Device) verifySlot(ctx context.Context, c Component, secondary bool) (*Image, error) {
	return d.verifySlotWith(ctx, c, secondary, nil)
}

// verifySlotWith is verifySlot where image-match takes a SHA-256 already
// computed over the slot's bytes, when known is set.
func (d *Device) verifySlotWith(ctx context.Context, c Component, secondary bool, known []byte) (*Image, error) {
	h, err := d.readSlotHeader(c, secondary)
	if err != nil {
		return nil, err
	}
	read := func(n int) io.Reader { return d.imageReader(c, secondary, n) }
	return d.verifyImage(ctx, c, h.Envelope, h.ImageLen, read, known)
}

// verifyImage checks an image of size bytes, whose first n bytes read(n)
// returns, against envelope, as verifySlot does for a slot's.
func (d *Device) verifyImage(ctx context.Context, c Component, envelope []byte, size int, read func(n int) io.Reader, known []byte) (*Image, error) {
	v, err := d.cfg.Policy.Verify(envelope)
	if err != nil {
		return nil, err
	}
	if len(v.Manifest.Components) != 1 || !v.Manifest.Components[0].Equal(c.ID()) {
		return nil, fmt.Errorf("%w: manifest for %v is not about %s alone", suit.ErrRejected, v.Manifest.Components, c)
	}
	if m := v.Manifest.Members[suit.KeyValidate]; !m.Present() {
		return nil, fmt.Errorf("%w: manifest has no validate sequence", suit.ErrRejected)
	}
	p := &bootPlatform{d: d, c: c, read: read, size: size, known: known}
	if _, err := suit.Process(ctx, v, p, suit.Options{Sequences: []int64{suit.KeyValidate}}); err != nil {
		return nil, err
	}
	if p.sum == nil {
		return nil, fmt.Errorf("%w: validate sequence did not check the image", suit.ErrRejected)
	}
	return &Image{Component: c, SequenceNumber: v.Manifest.SequenceNumber, ManifestDigest: v.Digest.Bytes,
		ImageDigest: p.sum, Size: size, Signers: v.Signers}, nil
}

// bootPlatform is the SUIT platform of the bootloader: it can only read
// and hash the image being verified.
type bootPlatform struct {
	d     *Device
	c     Component
	read  func(n int) io.Reader // the image's first n bytes
	size  int
	known []byte // SHA-256 of the image, when the caller hashed it already
	sum   []byte // SHA-256 of the image, once image-match ran
}

var errBootReadOnly = fmt.Errorf("%w: the bootloader does not change images while verifying", suit.ErrUnsupported)

func (p *bootPlatform) MatchIdentity(kind suit.IdentityKind, _ suit.Target, id []byte) (bool, error) {
	var want []byte
	switch kind {
	case suit.IdentityVendor:
		want = p.d.cfg.VendorID
	case suit.IdentityClass:
		want = p.d.cfg.ClassID
	default:
		return false, nil // a bootloader has no device identity to match
	}
	return want == nil || string(want) == string(id), nil
}

func (p *bootPlatform) Slot(suit.Target) (uint64, error) { return 0, nil }

func (p *bootPlatform) SequenceNumber(id suit.ComponentID) (uint64, error) {
	c, ok := ComponentByID(id)
	if !ok {
		return 0, fmt.Errorf("%w: unknown component %s", suit.ErrUnsupported, id)
	}
	return p.d.counters.Counter(c)
}

func (p *bootPlatform) Fetch(context.Context, suit.Target, string) error     { return errBootReadOnly }
func (p *bootPlatform) Write(context.Context, suit.Target, []byte) error     { return errBootReadOnly }
func (p *bootPlatform) Copy(context.Context, suit.Target, suit.Target) error { return errBootReadOnly }
func (p *bootPlatform) Swap(context.Context, suit.Target, suit.Target) error { return errBootReadOnly }
func (p *bootPlatform) Invoke(context.Context, suit.Target, []byte) error    { return nil }

func (p *bootPlatform) ImageDigest(t suit.Target, alg int64) ([]byte, uint64, error) {
	if !t.ID.Equal(p.c.ID()) {
		return nil, 0, suit.ErrNoImage
	}
	if p.known != nil && alg == suit.AlgSHA256 {
		p.sum = p.known
		return p.known, uint64(p.size), nil
	}
	h, err := suit.NewHash(alg)
	if err != nil {
		return nil, 0, err
	}
	var s256 hash.Hash
	w := io.Writer(h)
	if alg != suit.AlgSHA256 {
		s256 = sha256.New()
		w = io.MultiWriter(h, s256)
	}
	if _, err := io.CopyBuffer(w, p.read(p.size), make([]byte, 64<<10)); err != nil {
		return nil, 0, err
	}
	sum := h.Sum(nil)
	if s256 != nil {
		p.sum = s256.Sum(nil)
	} else {
		p.sum = sum
	}
	return sum, uint64(p.size), nil
}

func (p *bootPlatform) ReadContent(t suit.Target, limit int) ([]byte, error) {
	if !t.ID.Equal(p.c.ID()) {
		return nil, suit.ErrNoImage
	}
	n := min(p.size, limit+1)
	buf := make([]byte, n)
	if _, err := io.ReadFull(p.read(n), buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// isRejection tells a verification failure (the image is not acceptable)
// from a hardware fault (a power cut, a read error), which must stop boot.
func isRejection(err error) bool {
	return errors.Is(err, suit.ErrRejected) || errors.Is(err, ErrEmptySlot)
}
