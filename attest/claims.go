package attest

import (
	"crypto/sha256"
	"fmt"

	"github.com/veraison/eat"
)

// Profile is the eat_profile of our EATs: the URI of the document that
// defines their claims (docs/eat-profile.md).
const Profile = "https://github.com/teeup/teeup/blob/main/docs/eat-profile.md"

// Debug is the dbgstat claim (RFC 9711 section 4.2.9).
type Debug = eat.Debug

// The dbgstat values.
const (
	DebugEnabled              Debug = eat.DebugNotDisabled
	DebugDisabled             Debug = eat.DebugDisabled
	DebugDisabledSinceBoot    Debug = eat.DebugDisabledSinceBoot
	DebugPermanentDisable     Debug = eat.DebugPermanentDisable
	DebugFullPermanentDisable Debug = eat.DebugFullPermanentDisable
)

// Kind says how a component came to be on the device and so where else
// it is measured.
type Kind uint8

const (
	// KindImage is a firmware image the bootloader verified, booted and
	// measured into the PCR and the event log (the secure image, the
	// normal image).
	KindImage Kind = 1
	// KindTA is a Trusted Application the secure world installed; the
	// boot does not measure it, so only the EAT speaks for it.
	KindTA Kind = 2
)

func (k Kind) String() string {
	switch k {
	case KindImage:
		return "image"
	case KindTA:
		return "ta"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Component is what the device says of one component it holds.
type Component struct {
	// Name is the component's SUIT component identifier in its text form
	// (as suit.ComponentID.String() renders it and the event log records
	// it), e.g. ['secure'] or ['ta','0011…'].
	Name string
	Kind Kind
	// Digest is the SHA-256 of the component's image.
	Digest []byte
	// ManifestDigest is the SHA-256 of the SUIT manifest it was installed
	// with (the digest the bootloader measures).
	ManifestDigest []byte
	// Sequence is that manifest's sequence number.
	Sequence uint64
	// Signer identifies the key that signed that manifest: the SHA-256 of
	// its SubjectPublicKeyInfo.
	Signer []byte
}

// Claims are what a device asserts in its EAT. On the verifier side,
// Verify returns them only once every check has passed.
type Claims struct {
	Nonce      []byte // eat_nonce: the verifier's challenge, MinNonce..MaxNonce bytes
	UEID       []byte // ueid
	OEMID      []byte // oemid
	HWModel    []byte // hwmodel
	HWVersion  string // hwversion
	Debug      Debug  // dbgstat
	BootCount  uint64 // bootcount
	Components []Component
}

// Validate checks the claims against the profile's bounds.
func (c *Claims) Validate() error {
	switch {
	case len(c.Nonce) < MinNonce || len(c.Nonce) > MaxNonce:
		return fmt.Errorf("%w: eat_nonce of %d bytes, want %d..%d", ErrMalformed, len(c.Nonce), MinNonce, MaxNonce)
	case len(c.UEID) < MinUEID || len(c.UEID) > MaxUEID:
		return fmt.Errorf("%w: ueid of %d bytes, want %d..%d", ErrMalformed, len(c.UEID), MinUEID, MaxUEID)
	case len(c.OEMID) == 0 || len(c.OEMID) > MaxOEMID:
		return fmt.Errorf("%w: oemid of %d bytes, want 1..%d", ErrMalformed, len(c.OEMID), MaxOEMID)
	case len(c.HWModel) == 0 || len(c.HWModel) > MaxHWModel:
		return fmt.Errorf("%w: hwmodel of %d bytes, want 1..%d", ErrMalformed, len(c.HWModel), MaxHWModel)
	case c.HWVersion == "" || len(c.HWVersion) > MaxVersion:
		return fmt.Errorf("%w: hwversion of %d bytes, want 1..%d", ErrMalformed, len(c.HWVersion), MaxVersion)
	case eat.Debug(c.Debug).Validate() != nil:
		return fmt.Errorf("%w: dbgstat %d", ErrMalformed, c.Debug)
	case len(c.Components) > MaxComponents:
		return fmt.Errorf("%w: %d components, limit %d", ErrMalformed, len(c.Components), MaxComponents)
	}
	seen := make(map[string]bool, len(c.Components))
	for i, m := range c.Components {
		switch {
		case m.Name == "" || len(m.Name) > MaxComponentName:
			return fmt.Errorf("%w: component %d: name of %d bytes", ErrMalformed, i, len(m.Name))
		case seen[m.Name]:
			return fmt.Errorf("%w: component %s listed twice", ErrMalformed, m.Name)
		case m.Kind != KindImage && m.Kind != KindTA:
			return fmt.Errorf("%w: component %s: %v", ErrMalformed, m.Name, m.Kind)
		case len(m.Digest) != sha256.Size || len(m.ManifestDigest) != sha256.Size:
			return fmt.Errorf("%w: component %s: digests of %d and %d bytes, want SHA-256", ErrMalformed, m.Name, len(m.Digest), len(m.ManifestDigest))
		case len(m.Signer) == 0 || len(m.Signer) > MaxSigner:
			return fmt.Errorf("%w: component %s: signer of %d bytes, want 1..%d", ErrMalformed, m.Name, len(m.Signer), MaxSigner)
		}
		seen[m.Name] = true
	}
	return nil
}

// Component returns the claims' component called name.
func (c *Claims) Component(name string) (Component, bool) {
	for _, m := range c.Components {
		if m.Name == name {
			return m, true
		}
	}
	return Component{}, false
}
