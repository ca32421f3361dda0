package suit

import (
	"errors"
	"fmt"
	"slices"
)

// BuildSpec is what an author declares; Build turns it into an envelope
// whose digests and sizes are computed from the payloads.
type BuildSpec struct {
	SequenceNumber uint64
	VendorID       []byte // UUID (16 bytes)
	ClassID        []byte // UUID (16 bytes)
	DeviceID       []byte // optional UUID: the manifest then fits one device only
	ReferenceURI   string
	Components     []BuildComponent
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

// BuildComponent is one component of a BuildSpec.
type BuildComponent struct {
	ID ComponentID
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
// the digest); sign it with Envelope.Sign.
func Build(spec *BuildSpec) (*Envelope, error) {
	env, _, err := BuildDetached(spec)
	return env, err
}

// BuildDetached is Build that also returns, by URI, the ciphertext of each
// encrypted component that is fetched rather than integrated or written:
// what the author must publish, since it exists nowhere else.
func BuildDetached(spec *BuildSpec) (*Envelope, map[string][]byte, error) {
	if len(spec.Components) == 0 || len(spec.Components) > MaxComponents {
		return nil, nil, fmt.Errorf("build: %d components", len(spec.Components))
	}
	if len(spec.VendorID) != 16 || len(spec.ClassID) != 16 {
		return nil, nil, errors.New("build: vendor-id and class-id must be 16-byte UUIDs")
	}
	if spec.DeviceID != nil && len(spec.DeviceID) != 16 {
		return nil, nil, errors.New("build: device-id must be a 16-byte UUID")
	}
	alg := spec.DigestAlg
	if alg == 0 {
		alg = AlgSHA256
	}
	env := &Envelope{Tagged: true, Severable: map[int64][]byte{}, Integrated: map[string][]byte{}}
	ids := make([]ComponentID, 0, len(spec.Components))
	for _, c := range spec.Components {
		ids = append(ids, c.ID)
	}
	staging := map[int]int{} // component index -> its staging component's index
	detached := map[string][]byte{}
	for i, c := range spec.Components {
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
	if len(ids) > MaxComponents {
		return nil, nil, fmt.Errorf("build: %d components", len(ids))
	}
	multi := len(ids) > 1
	var shared, install, validate, invoke Sequence
	invocable := false
	selIndex := func(s Sequence, i int) Sequence {
		if multi {
			return append(s, Command{Code: DirSetComponentIndex, Index: &IndexArg{Indices: []uint64{uint64(i)}}})
		}
		return s
	}
	for i, c := range spec.Components {
		if c.Unlink {
			p := Parameters{ParamVendorID: spec.VendorID, ParamClassID: spec.ClassID}
			shared = append(selIndex(shared, i), Command{Code: DirOverrideParameters, Params: p},
				Command{Code: CondVendorIdentifier, Policy: 15}, Command{Code: CondClassIdentifier, Policy: 15})
			install = append(selIndex(install, i), Command{Code: DirUnlink, Policy: 15})
			continue
		}
		digest, err := DigestOf(alg, c.Payload)
		if err != nil {
			return nil, nil, err
		}
		sel := func(s Sequence) Sequence { return selIndex(s, i) }
		stored := c.Payload // what the envelope or the server carries
		var encInfo []byte
		if c.Encrypt != nil {
			if stored, encInfo, err = EncryptPayload(c.Payload, *c.Encrypt); err != nil {
				return nil, nil, fmt.Errorf("build: component %s: %w", c.ID, err)
			}
		}
		p := Parameters{ParamVendorID: spec.VendorID, ParamClassID: spec.ClassID,
			ParamImageDigest: digest, ParamImageSize: uint64(len(c.Payload))}
		if spec.DeviceID != nil {
			p[ParamDeviceID] = spec.DeviceID
		}
		shared = append(sel(shared), Command{Code: DirOverrideParameters, Params: p},
			Command{Code: CondVendorIdentifier, Policy: 15}, Command{Code: CondClassIdentifier, Policy: 15})
		if spec.DeviceID != nil {
			shared = append(shared, Command{Code: CondDeviceIdentifier, Policy: 15})
		}

		install = sel(install)
		if c.Slot != nil {
			install = append(install, Command{Code: DirOverrideParameters, Params: Parameters{ParamComponentSlot: *c.Slot}},
				Command{Code: CondComponentSlot, Policy: 15})
		}
		var uri string
		switch {
		case c.Write:
			p := Parameters{ParamContent: stored}
			if encInfo != nil {
				p[ParamEncryptionInfo] = encInfo
			}
			install = append(install, Command{Code: DirOverrideParameters, Params: p}, Command{Code: DirWrite, Policy: 15})
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
			install = append(install, Command{Code: DirOverrideParameters, Params: Parameters{ParamURI: uri}},
				Command{Code: DirFetch, Policy: 2})
		case uri != "" && c.DecryptOnFetch:
			install = append(install, Command{Code: DirOverrideParameters, Params: Parameters{ParamURI: uri, ParamEncryptionInfo: encInfo}},
				Command{Code: DirFetch, Policy: 2})
		case uri != "":
			// Fetch the ciphertext into staging and check it before spending
			// anything on decryption, then decrypt by copying.
			ctDigest, err := DigestOf(alg, stored)
			if err != nil {
				return nil, nil, err
			}
			s := staging[i]
			install = append(selIndex(install, s),
				Command{Code: DirOverrideParameters, Params: Parameters{ParamURI: uri, ParamImageDigest: ctDigest, ParamImageSize: uint64(len(stored))}},
				Command{Code: DirFetch, Policy: 2}, Command{Code: CondImageMatch, Policy: 15})
			install = append(sel(install),
				Command{Code: DirOverrideParameters, Params: Parameters{ParamEncryptionInfo: encInfo, ParamSourceComponent: uint64(s)}},
				Command{Code: DirCopy, Policy: 15})
		}
		install = append(install, Command{Code: CondImageMatch, Policy: 15})
		validate = append(sel(validate), Command{Code: CondImageMatch, Policy: 15})
		if c.Invoke {
			invocable = true
			invoke = append(sel(invoke), Command{Code: DirInvoke, Policy: 15})
		}
	}
	seqs := spec.Sequences
	if seqs == nil {
		seqs = []int64{KeyInstall, KeyValidate}
		if invocable {
			seqs = append(seqs, KeyInvoke)
		}
	}
	common := map[int64]any{keyComponents: ids, keySharedSequence: shared.Encode()}
	manifest := map[int64]any{
		KeyVersion:        uint64(ManifestVersion),
		KeySequenceNumber: spec.SequenceNumber,
		KeyCommon:         mustMarshal(common),
	}
	if spec.ReferenceURI != "" {
		manifest[KeyReferenceURI] = spec.ReferenceURI
	}
	members := map[int64][]byte{}
	for _, key := range seqs {
		switch key {
		case KeyInstall:
			members[key] = install.Encode()
		case KeyValidate:
			if len(validate) > 0 { // a manifest that only unlinks has nothing to validate
				members[key] = validate.Encode()
			}
		case KeyInvoke:
			if !invocable {
				return nil, nil, errors.New("build: invoke sequence requested but no component is invocable")
			}
			members[key] = invoke.Encode()
		default:
			return nil, nil, fmt.Errorf("build: cannot emit sequence %s", SequenceName(key))
		}
	}
	if len(spec.Text) > 0 {
		members[KeyText] = mustMarshal(spec.Text)
	}
	for _, key := range spec.Sever {
		if !severableKeys[key] {
			return nil, nil, fmt.Errorf("build: %s is not severable", SequenceName(key))
		}
		if members[key] == nil {
			return nil, nil, fmt.Errorf("build: cannot sever %s: not emitted", SequenceName(key))
		}
	}
	for key, b := range members {
		manifest[key] = b
		for _, s := range spec.Sever {
			if s == key {
				d, err := DigestOf(alg, bstrEncoding(b))
				if err != nil {
					return nil, nil, err
				}
				manifest[key] = d
				env.Severable[key] = b
			}
		}
	}
	env.Manifest = mustMarshal(manifest)
	if len(env.Manifest) > MaxManifestSize {
		return nil, nil, fmt.Errorf("build: manifest of %d bytes exceeds %d", len(env.Manifest), MaxManifestSize)
	}
	digest, err := DigestOf(alg, bstrEncoding(env.Manifest))
	if err != nil {
		return nil, nil, err
	}
	env.AuthWrapper = (&Authentication{DigestBytes: digest.Encode()}).Encode()
	return env, detached, nil
}
