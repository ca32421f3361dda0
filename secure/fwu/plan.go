package fwu

import (
	"context"
	"fmt"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/suit"
)

// planPlatform runs a manifest's fetch and install sequences before any
// byte arrives: identity and sequence number are checked for real, a
// fetch is recorded as a request to the normal world, and image-match on
// the fetched component answers with the digest the manifest promises,
// which Finish then checks on the bytes and the bootloader checks again.
type planPlatform struct {
	boot    *boot.Device
	comp    boot.Component
	uri     string
	written []byte // an integrated payload or written content
	digest  suit.Digest
	size    uint64 // of the image
	encInfo []byte // set when the payload arrives encrypted
	wire    uint64 // of the payload as it arrives
}

// DecryptsPayloads: the service decrypts a payload that has encryption
// info as it streams in (StartUpdate).
func (p *planPlatform) DecryptsPayloads() {}

var errPlanUnsupported = fmt.Errorf("%w: only fetch or write into the component is supported in an update", suit.ErrUnsupported)

func (p *planPlatform) MatchIdentity(kind suit.IdentityKind, _ suit.Target, id []byte) (bool, error) {
	return matchIdentity(p.boot, kind, id), nil
}

// matchIdentity answers the vendor and class conditions with the
// device's identity; a device without one matches any. It knows no other
// identity.
func matchIdentity(b *boot.Device, kind suit.IdentityKind, id []byte) bool {
	vendor, class := b.Identity()
	switch kind {
	case suit.IdentityVendor:
		return vendor == nil || string(vendor) == string(id)
	case suit.IdentityClass:
		return class == nil || string(class) == string(id)
	}
	return false
}

func (p *planPlatform) Slot(suit.Target) (uint64, error) { return 0, nil }

func (p *planPlatform) SequenceNumber(id suit.ComponentID) (uint64, error) {
	c, ok := boot.ComponentByID(id)
	if !ok {
		return 0, fmt.Errorf("%w: no component %s", suit.ErrUnsupported, id)
	}
	return p.boot.Counter(c)
}

func (p *planPlatform) promise(t suit.Target) error {
	if !t.ID.Equal(p.comp.ID()) {
		return errPlanUnsupported
	}
	d, ok := t.Params.Digest(suit.ParamImageDigest)
	size, sized := t.Params.Uint(suit.ParamImageSize)
	if !ok || !sized {
		return fmt.Errorf("%w: a payload must declare its image-digest and image-size", suit.ErrRejected)
	}
	p.digest, p.size, p.wire, p.encInfo = d, size, size, nil
	if raw, ok := t.Params.Bytes(suit.ParamEncryptionInfo); ok {
		info, err := suit.ParseEncryptionInfo(raw)
		if err != nil {
			return err
		}
		p.encInfo, p.wire = raw, info.CiphertextSize(size)
	}
	return nil
}

func (p *planPlatform) Fetch(_ context.Context, t suit.Target, uri string) error {
	if err := p.promise(t); err != nil {
		return err
	}
	p.uri, p.written = uri, nil
	return nil
}

func (p *planPlatform) Write(_ context.Context, t suit.Target, content []byte) error {
	if err := p.promise(t); err != nil {
		return err
	}
	if uint64(len(content)) != p.wire {
		return fmt.Errorf("%w: content of %d bytes, %d expected", suit.ErrRejected, len(content), p.wire)
	}
	p.uri, p.written = "", content
	return nil
}

func (p *planPlatform) Copy(context.Context, suit.Target, suit.Target) error {
	return errPlanUnsupported
}
func (p *planPlatform) Swap(context.Context, suit.Target, suit.Target) error {
	return errPlanUnsupported
}
func (p *planPlatform) Invoke(context.Context, suit.Target, []byte) error { return nil }

func (p *planPlatform) ImageDigest(t suit.Target, alg int64) ([]byte, uint64, error) {
	if !t.ID.Equal(p.comp.ID()) || p.digest.Bytes == nil || alg != p.digest.Alg {
		return nil, 0, suit.ErrNoImage
	}
	return p.digest.Bytes, p.size, nil
}

func (p *planPlatform) ReadContent(suit.Target, int) ([]byte, error) { return nil, suit.ErrNoImage }
