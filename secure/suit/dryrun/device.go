// Package dryrun is a device that exists only in memory, for running a
// manifest to see what it would do: the author's check before publishing,
// and the processor's conformance tests. It implements suit.Platform.
//
// It trusts its configuration (identity, slots, stored sequence numbers,
// payloads the caller supplies) and nothing from the manifest.
package dryrun

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/subtle"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/teeup/teeup/secure/suit"
)

// Image is what a component holds: real bytes, or, for a simulated fetch,
// only the digest and size the manifest declared.
type Image struct {
	Data []byte
	// Simulated images have no data: Digest and Size stand for it.
	Simulated bool
	Digest    suit.Digest
	Size      uint64
	// SizeUnknown: the manifest gave no size when the image was simulated;
	// image-match then takes the size it expects.
	SizeUnknown bool
}

// Component describes one component the device has.
type Component struct {
	ID             suit.ComponentID
	Slot           uint64
	SequenceNumber uint64
	Image          *Image
	// Version is the version the component asserts, nil for none.
	Version []int64
}

// Device is a dry-run device. The zero value is a device with no identity
// constraints that accepts any component. Not safe for concurrent use.
type Device struct {
	// VendorIDs, ClassIDs and DeviceIDs list the device's identifiers; an
	// empty list matches any identifier of that kind.
	VendorIDs, ClassIDs, DeviceIDs [][]byte
	// Components lists the components the device has. When Fixed is set
	// this is the closed set, and a command on any other is refused;
	// otherwise a write creates the component.
	Components []*Component
	Fixed      bool
	// Payloads maps URIs to the bytes a fetch of them returns.
	Payloads map[string][]byte
	// SimulateMissingPayloadsUnsafe makes a fetch of a URI with no payload
	// store a simulated image that matches the digest and size the
	// manifest set, so that a manifest whose payloads are not at hand can
	// still be traced. Image-match on such an image checks nothing.
	SimulateMissingPayloadsUnsafe bool
	// KEK is the device's pre-shared A128KW key-encryption key, and
	// AgreementKey its P-256 key for ECDH-ES+A128KW: what Fetch, Write and
	// Copy decrypt with when the manifest sets encryption info. Either may
	// be nil.
	KEK          []byte
	AgreementKey *ecdh.PrivateKey

	// What the update-management conditions see. Each is absent when
	// zero, and a condition that needs an absent one fails as
	// unsupported rather than assume a value.
	//
	// Time is the device's clock; a wait for a time moves it forward.
	Time time.Time
	// BatteryMWh is the charge available.
	BatteryMWh *uint64
	// Approve answers condition-update-authorized and a wait for
	// authorization, given the update's priority.
	Approve func(priority int64) bool
	// Waited records, in order, the wait-info of each directive-wait.
	Waited []suit.WaitInfo
	// Unlinked records, in order, the components unlinked; the dry-run
	// device counts no references, so an unlink empties the component.
	Unlinked []suit.ComponentID

	// Invocations lists, in order, the components invoked.
	Invocations []suit.ComponentID
	// Simulated records the fetches that stored a simulated image, which
	// the trace does not show.
	Simulated []SimulatedFetch
}

// SimulatedFetch is a fetch that no payload answered.
type SimulatedFetch struct {
	URI string
	ID  suit.ComponentID
}

func (f SimulatedFetch) String() string {
	return fmt.Sprintf("fetch %s into %s: simulated, no payload supplied", f.URI, f.ID)
}

var _ suit.DecryptingPlatform = (*Device)(nil)

// DecryptsPayloads implements suit.DecryptingPlatform.
func (d *Device) DecryptsPayloads() {}

// image makes the image a command stores from data: data itself, or, when
// the target's parameters hold encryption info, its decryption. The
// plaintext is streamed into a staging buffer that becomes the image only
// once the decryptor's Close succeeds (for AES-GCM: the tag verified);
// on failure the staging buffer is erased and the component is untouched.
func (d *Device) image(t suit.Target, data []byte) (*Image, error) {
	info, ok := t.Params.Bytes(suit.ParamEncryptionInfo)
	if !ok {
		return &Image{Data: slices.Clone(data)}, nil
	}
	var staging bytes.Buffer
	staging.Grow(len(data))
	keys := &suit.DeviceKeys{KEK: d.KEK, AgreementKey: d.AgreementKey}
	if _, err := suit.Decrypt(&staging, bytes.NewReader(data), info, keys); err != nil {
		clear(staging.Bytes())
		return nil, fmt.Errorf("decrypt into %s: %w", t.ID, err)
	}
	return &Image{Data: staging.Bytes()}, nil
}

// component finds a component to store into, creating it on an open device.
func (d *Device) component(id suit.ComponentID) (*Component, error) {
	if c := d.lookup(id); c != nil {
		return c, nil
	}
	if d.Fixed {
		return nil, fmt.Errorf("%w: device has no component %s", suit.ErrUnsupportedComponent, id)
	}
	c := &Component{ID: id}
	d.Components = append(d.Components, c)
	return c, nil
}

func (d *Device) lookup(id suit.ComponentID) *Component {
	for _, c := range d.Components {
		if c.ID.Equal(id) {
			return c
		}
	}
	return nil
}

// MatchIdentity implements suit.Platform.
func (d *Device) MatchIdentity(kind suit.IdentityKind, _ suit.Target, id []byte) (bool, error) {
	var have [][]byte
	switch kind {
	case suit.IdentityVendor:
		have = d.VendorIDs
	case suit.IdentityClass:
		have = d.ClassIDs
	case suit.IdentityDevice:
		have = d.DeviceIDs
	}
	if len(have) == 0 {
		return true, nil
	}
	for _, h := range have {
		if len(h) == len(id) && subtle.ConstantTimeCompare(h, id) == 1 {
			return true, nil
		}
	}
	return false, nil
}

// Slot implements suit.Platform.
func (d *Device) Slot(t suit.Target) (uint64, error) {
	if c := d.lookup(t.ID); c != nil {
		return c.Slot, nil
	}
	return 0, nil
}

// SequenceNumber implements suit.Platform.
func (d *Device) SequenceNumber(id suit.ComponentID) (uint64, error) {
	if c := d.lookup(id); c != nil {
		return c.SequenceNumber, nil
	}
	return 0, nil
}

func (d *Device) store(t suit.Target, img *Image) error {
	c, err := d.component(t.ID)
	if err != nil {
		return err
	}
	c.Image = img
	return nil
}

// Fetch implements suit.Platform.
func (d *Device) Fetch(_ context.Context, t suit.Target, uri string) error {
	if data, ok := d.Payloads[uri]; ok {
		img, err := d.image(t, data)
		if err != nil {
			return err
		}
		return d.store(t, img)
	}
	if !d.SimulateMissingPayloadsUnsafe {
		return fmt.Errorf("%w: %s", suit.ErrPayloadUnavailable, uri)
	}
	return d.simulate(t, uri)
}

// simulate stores an image that stands for what the manifest expects.
func (d *Device) simulate(t suit.Target, uri string) error {
	digest, ok := t.Params.Digest(suit.ParamImageDigest)
	if !ok {
		return fmt.Errorf("%w: %s (cannot simulate without image-digest)", suit.ErrPayloadUnavailable, uri)
	}
	size, sized := t.Params.Uint(suit.ParamImageSize)
	d.Simulated = append(d.Simulated, SimulatedFetch{URI: uri, ID: t.ID})
	return d.store(t, &Image{Simulated: true, Digest: digest, Size: size, SizeUnknown: !sized})
}

// Write implements suit.Platform.
func (d *Device) Write(_ context.Context, t suit.Target, content []byte) error {
	img, err := d.image(t, content)
	if err != nil {
		return err
	}
	return d.store(t, img)
}

// Copy implements suit.Platform.
func (d *Device) Copy(_ context.Context, dst, src suit.Target) error {
	s := d.lookup(src.ID)
	if s == nil || s.Image == nil {
		return fmt.Errorf("copy from %s: %w", src.ID, suit.ErrNoImage)
	}
	if _, encrypted := dst.Params.Bytes(suit.ParamEncryptionInfo); encrypted && s.Image.Simulated {
		// A simulated image has no bytes to decrypt.
		if !d.SimulateMissingPayloadsUnsafe {
			return fmt.Errorf("copy from %s: %w: cannot decrypt a simulated image", src.ID, suit.ErrPayloadUnavailable)
		}
		return d.simulate(dst, "decryption of "+src.ID.String())
	}
	if s.Image.Simulated {
		img := *s.Image
		return d.store(dst, &img)
	}
	img, err := d.image(dst, s.Image.Data)
	if err != nil {
		return err
	}
	return d.store(dst, img)
}

// Swap implements suit.Platform.
func (d *Device) Swap(_ context.Context, dst, src suit.Target) error {
	s := d.lookup(src.ID)
	if s == nil || s.Image == nil {
		return fmt.Errorf("swap with %s: %w", src.ID, suit.ErrNoImage)
	}
	c, err := d.component(dst.ID)
	if err != nil {
		return err
	}
	c.Image, s.Image = s.Image, c.Image
	return nil
}

// ImageDigest implements suit.Platform.
func (d *Device) ImageDigest(t suit.Target, alg int64) ([]byte, uint64, error) {
	c := d.lookup(t.ID)
	if c == nil || c.Image == nil {
		return nil, 0, suit.ErrNoImage
	}
	if c.Image.Simulated {
		if c.Image.Digest.Alg != alg {
			return nil, 0, fmt.Errorf("%w: simulated image has a digest of algorithm %d", suit.ErrUnsupported, c.Image.Digest.Alg)
		}
		size := c.Image.Size
		if want, ok := t.Params.Uint(suit.ParamImageSize); ok && c.Image.SizeUnknown {
			size = want
		}
		return c.Image.Digest.Bytes, size, nil
	}
	sum, err := suit.DigestOf(alg, c.Image.Data)
	if err != nil {
		return nil, 0, err
	}
	return sum.Bytes, uint64(len(c.Image.Data)), nil
}

// ReadContent implements suit.Platform.
func (d *Device) ReadContent(t suit.Target, limit int) ([]byte, error) {
	c := d.lookup(t.ID)
	if c == nil || c.Image == nil || c.Image.Simulated {
		return nil, suit.ErrNoImage
	}
	if len(c.Image.Data) > limit {
		return c.Image.Data[:limit+1], nil
	}
	return c.Image.Data, nil
}

// Invoke implements suit.Platform.
func (d *Device) Invoke(_ context.Context, t suit.Target, _ []byte) error {
	c := d.lookup(t.ID)
	if c == nil || c.Image == nil {
		return fmt.Errorf("invoke %s: %w", t.ID, suit.ErrNoImage)
	}
	d.Invocations = append(d.Invocations, t.ID)
	return nil
}

var (
	_ suit.Unlinker       = (*Device)(nil)
	_ suit.Clock          = (*Device)(nil)
	_ suit.Battery        = (*Device)(nil)
	_ suit.UpdateApprover = (*Device)(nil)
	_ suit.VersionSource  = (*Device)(nil)
	_ suit.Waiter         = (*Device)(nil)
)

// Unlink implements suit.Unlinker.
func (d *Device) Unlink(_ context.Context, t suit.Target) error {
	d.Unlinked = append(d.Unlinked, t.ID)
	if c := d.lookup(t.ID); c != nil {
		c.Image = nil
	}
	return nil
}

func absent(what string) error {
	return fmt.Errorf("%w: the dry-run device has no %s configured", suit.ErrUnsupportedCommand, what)
}

// Now implements suit.Clock.
func (d *Device) Now() (time.Time, error) {
	if d.Time.IsZero() {
		return time.Time{}, absent("clock")
	}
	return d.Time, nil
}

// BatteryLevel implements suit.Battery.
func (d *Device) BatteryLevel() (uint64, error) {
	if d.BatteryMWh == nil {
		return 0, absent("battery")
	}
	return *d.BatteryMWh, nil
}

// ApproveUpdate implements suit.UpdateApprover.
func (d *Device) ApproveUpdate(_ context.Context, _ suit.Target, priority int64) (bool, error) {
	if d.Approve == nil {
		return false, absent("update approver")
	}
	return d.Approve(priority), nil
}

// ComponentVersion implements suit.VersionSource.
func (d *Device) ComponentVersion(t suit.Target) ([]int64, error) {
	if c := d.lookup(t.ID); c != nil {
		return c.Version, nil
	}
	return nil, nil
}

// Wait implements suit.Waiter as a simulation: a wait for a time (or a
// UTC time of day or day of week) moves the clock forward to it; a wait
// for authorization asks Approve and fails if it says no, since nothing
// would change its mind; power and network count as present. Local-time
// events and other devices' versions are unsupported: the device has no
// time zone and no other devices.
func (d *Device) Wait(_ context.Context, _ suit.Target, w suit.WaitInfo) error {
	d.Waited = append(d.Waited, w)
	if w.OtherDevice != nil {
		return fmt.Errorf("%w: wait for another device's version", suit.ErrUnsupportedCommand)
	}
	for _, ev := range slices.Sorted(maps.Keys(w.Events)) {
		v := w.Events[ev]
		switch ev {
		case suit.WaitPower, suit.WaitNetwork:
		case suit.WaitAuthorization:
			if d.Approve == nil {
				return absent("update approver")
			}
			if !d.Approve(v) {
				return fmt.Errorf("%w: waiting for authorization at priority %d would never end", suit.ErrUpdateNotApproved, v)
			}
		case suit.WaitTime, suit.WaitTimeOfDayUTC, suit.WaitDayOfWeekUTC:
			if d.Time.IsZero() {
				return absent("clock")
			}
			d.Time = nextTime(d.Time.UTC(), ev, v)
		default:
			return fmt.Errorf("%w: wait event %d", suit.ErrUnsupportedCommand, ev)
		}
	}
	return nil
}

// nextTime is the first time at or after now when event ev with argument
// v holds.
func nextTime(now time.Time, ev, v int64) time.Time {
	switch ev {
	case suit.WaitTime:
		if at := time.Unix(v, 0).UTC(); at.After(now) {
			return at
		}
	case suit.WaitTimeOfDayUTC:
		day := now.Truncate(24 * time.Hour)
		at := day.Add(time.Duration(v%86400) * time.Second)
		if at.Before(now) {
			at = at.Add(24 * time.Hour)
		}
		return at
	case suit.WaitDayOfWeekUTC:
		days := (int(v%7) - int(now.Weekday()) + 7) % 7
		if days > 0 {
			return now.Truncate(24*time.Hour).AddDate(0, 0, days)
		}
	}
	return now
}
