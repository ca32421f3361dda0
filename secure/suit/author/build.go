package author

import (
	"errors"
	"fmt"
	"slices"

	"github.com/teeup/teeup/secure/suit"
)

// Manifest is what an author declares; Build turns it into an envelope
// whose digests and sizes are computed from the payloads.
type Manifest struct {
	SequenceNumber uint64
	VendorID       []byte // UUID (16 bytes)
	ClassID        []byte // UUID (16 bytes)
	DeviceID       []byte // optional UUID: the manifest then fits one device only
	ReferenceURI   string
	Components     []Component
	// Sequences to emit, from install, validate, load... by key; nil means
	// install, validate and invoke (invoke only when a component is invocable).
	Sequences []int64
	// Sever moves these members (install, payload-fetch, text) out of the
	// manifest into the envelope, leaving their digests.
	Sever []int64
	// Text is the suit-text map: language tag to text key to string.
	Text map[string]map[int64]string
	// DigestAlg defaults to SHA-256.
	DigestAlg int64
}

// Component is one component of a Manifest.
type Component struct {
	ID suit.ComponentID
	// Payload is the image; its digest and size go into the manifest.
	Payload []byte
	// URI to fetch the payload from. Empty with Integrate or Write.
	URI string
	// Integrate carries the payload in the envelope under "#"+Name.
	Integrate bool
	Name      string
	// Write puts the payload in the manifest as suit-parameter-content.
	Write bool
	// Slot, when set, makes the install sequence check the component slot.
	Slot *uint64
	// Invoke adds the component to the invoke sequence.
	Invoke bool
	// Encrypt, when set, encrypts Payload for the spec's recipient
	// (draft-ietf-suit-firmware-encryption). The manifest keeps the
	// plaintext's digest, checked after decryption. A written payload is
	// decrypted by the write itself; a fetched or integrated one is fetched
	// into a staging component (ID + 'encrypted'), checked against the
	// ciphertext's digest, and decrypted by a copy into this component.
	Encrypt *EncryptSpec
	// DecryptOnFetch makes an encrypted fetched or integrated payload go
	// straight into the component, decrypted as it arrives, with only the
	// plaintext's digest checked: one pass over the bytes instead of two,
	// for large images under A128GCM, whose tag authenticates the
	// ciphertext anyway.
	DecryptOnFetch bool
	// Unlink makes the install sequence unlink the component
	// (directive-unlink): no payload, no digest.
	Unlink bool
}

// Build makes an unsigned envelope (the authentication wrapper holds only
// the digest); sign it with suit.Envelope.Sign.
func Build(m *Manifest) (*suit.Envelope, error) {
	env, _, err := BuildDetached(m)
	return env, err
}

// BuildDetached is Build that also returns, by URI, the ciphertext of each
// encrypted component that is fetched rather than integrated or written:
// what the author must publish, since it exists nowhere else.
func BuildDetached(m *Manifest) (*suit.Envelope, map[string][]byte, error) {
	if len(m.Components) == 0 || len(m.Components) > suit.MaxComponents {
		return nil, nil, fmt.Errorf("build: %d components", len(m.Components))
	}
	if len(m.VendorID) != 16 || len(m.ClassID) != 16 {
		return nil, nil, errors.New("build: vendor-id and class-id must be 16-byte UUIDs")
	}
	if m.DeviceID != nil && len(m.DeviceID) != 16 {
		return nil, nil, errors.New("build: device-id must be a 16-byte UUID")
	}
	alg := m.DigestAlg
	if alg == 0 {
		alg = suit.AlgSHA256
	}
	env := &suit.Envelope{Tagged: true, Severable: map[int64][]byte{}, Integrated: map[string][]byte{}}
	ids := make([]suit.ComponentID, 0, len(m.Components))
	for _, c := range m.Components {
		ids = append(ids, c.ID)
	}
	staging := map[int]int{} // component index -> its staging component's index
	detached := map[string][]byte{}
	for i, c := range m.Components {
		if c.Encrypt != nil && !c.Write && !c.DecryptOnFetch {
			staging[i] = len(ids)
			ids = append(ids, append(slices.Clone(c.ID), []byte("encrypted")))
		}
	}
	for i, id := range ids {
		for _, other := range ids[:i] {
			if id.Equal(other) {
				return nil, nil, fmt.Errorf("build: component %s appears twice", id)
			}
		}
	}
	if len(ids) > suit.MaxComponents {
		return nil, nil, fmt.Errorf("build: %d components", len(ids))
	}
	multi := len(ids) > 1
	var shared, install, validate, invoke suit.Sequence
	invocable := false
	selIndex := func(s suit.Sequence, i int) suit.Sequence {
		if multi {
			return append(s, suit.Command{Code: suit.DirSetComponentIndex, Index: &suit.IndexArg{Indices: []uint64{uint64(i)}}})
		}
		return s
	}
	for i, c := range m.Components {
		if c.Unlink {
			p := suit.Parameters{suit.ParamVendorID: m.VendorID, suit.ParamClassID: m.ClassID}
			shared = append(selIndex(shared, i), suit.Command{Code: suit.DirOverrideParameters, Params: p},
				suit.Command{Code: suit.CondVendorIdentifier, Policy: 15}, suit.Command{Code: suit.CondClassIdentifier, Policy: 15})
			install = append(selIndex(install, i), suit.Command{Code: suit.DirUnlink, Policy: 15})
			continue
		}
		digest, err := suit.DigestOf(alg, c.Payload)
		if err != nil {
			return nil, nil, err
		}
		sel := func(s suit.Sequence) suit.Sequence { return selIndex(s, i) }
		stored := c.Payload // what the envelope or the server carries
		var encInfo []byte
		if c.Encrypt != nil {
			if stored, encInfo, err = EncryptPayload(c.Payload, *c.Encrypt); err != nil {
				return nil, nil, fmt.Errorf("build: component %s: %w", c.ID, err)
			}
		}
		p := suit.Parameters{suit.ParamVendorID: m.VendorID, suit.ParamClassID: m.ClassID,
			suit.ParamImageDigest: digest, suit.ParamImageSize: uint64(len(c.Payload))}
		if m.DeviceID != nil {
			p[suit.ParamDeviceID] = m.DeviceID
		}
		shared = append(sel(shared), suit.Command{Code: suit.DirOverrideParameters, Params: p},
			suit.Command{Code: suit.CondVendorIdentifier, Policy: 15}, suit.Command{Code: suit.CondClassIdentifier, Policy: 15})
		if m.DeviceID != nil {
			shared = append(shared, suit.Command{Code: suit.CondDeviceIdentifier, Policy: 15})
		}

		install = sel(install)
		if c.Slot != nil {
			install = append(install, suit.Command{Code: suit.DirOverrideParameters, Params: suit.Parameters{suit.ParamComponentSlot: *c.Slot}},
				suit.Command{Code: suit.CondComponentSlot, Policy: 15})
		}
		var uri string
		switch {
		case c.Write:
			p := suit.Parameters{suit.ParamContent: stored}
			if encInfo != nil {
				p[suit.ParamEncryptionInfo] = encInfo
			}
			install = append(install, suit.Command{Code: suit.DirOverrideParameters, Params: p}, suit.Command{Code: suit.DirWrite, Policy: 15})
		case c.Integrate:
			if c.Name == "" {
				return nil, nil, fmt.Errorf("build: integrated component %s needs a name", c.ID)
			}
			uri = "#" + c.Name
			if _, dup := env.Integrated[uri]; dup {
				return nil, nil, fmt.Errorf("build: two payloads named %q", c.Name)
			}
			env.Integrated[uri] = stored
		case c.URI != "":
			uri = c.URI
			if encInfo != nil {
				if _, dup := detached[uri]; dup {
					return nil, nil, fmt.Errorf("build: two encrypted payloads at %q", uri)
				}
				detached[uri] = stored
			}
		default:
			return nil, nil, fmt.Errorf("build: component %s has no URI, and is neither integrated nor written", c.ID)
		}
		switch {
		case uri != "" && encInfo == nil:
			install = append(install, suit.Command{Code: suit.DirOverrideParameters, Params: suit.Parameters{suit.ParamURI: uri}},
				suit.Command{Code: suit.DirFetch, Policy: 2})
		case uri != "" && c.DecryptOnFetch:
			install = append(install, suit.Command{Code: suit.DirOverrideParameters, Params: suit.Parameters{suit.ParamURI: uri, suit.ParamEncryptionInfo: encInfo}},
				suit.Command{Code: suit.DirFetch, Policy: 2})
		case uri != "":
			// Fetch the ciphertext into staging and check it before spending
			// anything on decryption, then decrypt by copying.
			ctDigest, err := suit.DigestOf(alg, stored)
			if err != nil {
				return nil, nil, err
			}
			s := staging[i]
			install = append(selIndex(install, s),
				suit.Command{Code: suit.DirOverrideParameters, Params: suit.Parameters{suit.ParamURI: uri, suit.ParamImageDigest: ctDigest, suit.ParamImageSize: uint64(len(stored))}},
				suit.Command{Code: suit.DirFetch, Policy: 2}, suit.Command{Code: suit.CondImageMatch, Policy: 15})
			install = append(sel(install),
				suit.Command{Code: suit.DirOverrideParameters, Params: suit.Parameters{suit.ParamEncryptionInfo: encInfo, suit.ParamSourceComponent: uint64(s)}},
				suit.Command{Code: suit.DirCopy, Policy: 15})
		}
		install = append(install, suit.Command{Code: suit.CondImageMatch, Policy: 15})
		validate = append(sel(validate), suit.Command{Code: suit.CondImageMatch, Policy: 15})
		if c.Invoke {
			invocable = true
			invoke = append(sel(invoke), suit.Command{Code: suit.DirInvoke, Policy: 15})
		}
	}
	seqs := m.Sequences
	if seqs == nil {
		seqs = []int64{suit.KeyInstall, suit.KeyValidate}
		if invocable {
			seqs = append(seqs, suit.KeyInvoke)
		}
	}
	common := map[int64]any{keyComponents: ids, keySharedSequence: shared.Encode()}
	manifest := map[int64]any{
		suit.KeyVersion:        uint64(suit.ManifestVersion),
		suit.KeySequenceNumber: m.SequenceNumber,
		suit.KeyCommon:         mustMarshal(common),
	}
	if m.ReferenceURI != "" {
		manifest[suit.KeyReferenceURI] = m.ReferenceURI
	}
	members := map[int64][]byte{}
	for _, key := range seqs {
		switch key {
		case suit.KeyInstall:
			members[key] = install.Encode()
		case suit.KeyValidate:
			if len(validate) > 0 { // a manifest that only unlinks has nothing to validate
				members[key] = validate.Encode()
			}
		case suit.KeyInvoke:
			if !invocable {
				return nil, nil, errors.New("build: invoke sequence requested but no component is invocable")
			}
			members[key] = invoke.Encode()
		default:
			return nil, nil, fmt.Errorf("build: cannot emit sequence %s", suit.SequenceName(key))
		}
	}
	if len(m.Text) > 0 {
		members[suit.KeyText] = mustMarshal(m.Text)
	}
	for _, key := range m.Sever {
		if !suit.IsSeverable(key) {
			return nil, nil, fmt.Errorf("build: %s is not severable", suit.SequenceName(key))
		}
		if members[key] == nil {
			return nil, nil, fmt.Errorf("build: cannot sever %s: not emitted", suit.SequenceName(key))
		}
	}
	for key, b := range members {
		manifest[key] = b
		for _, s := range m.Sever {
			if s == key {
				d, err := suit.DigestOf(alg, bstrEncoding(b))
				if err != nil {
					return nil, nil, err
				}
				manifest[key] = d
				env.Severable[key] = b
			}
		}
	}
	env.Manifest = mustMarshal(manifest)
	if len(env.Manifest) > suit.MaxManifestSize {
		return nil, nil, fmt.Errorf("build: manifest of %d bytes exceeds %d", len(env.Manifest), suit.MaxManifestSize)
	}
	digest, err := suit.DigestOf(alg, bstrEncoding(env.Manifest))
	if err != nil {
		return nil, nil, err
	}
	env.AuthWrapper = (&suit.Authentication{DigestBytes: digest.Encode()}).Encode()
	return env, detached, nil
}
