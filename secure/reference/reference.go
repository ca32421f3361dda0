package reference

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/ta"
)

// ErrNoReference: an envelope installs nothing a device claims (no boot
// image and no TA), or does not say the digest of what it installs.
var ErrNoReference = errors.New("reference: no reference values in the envelope")

// Reference returns the reference values of an envelope: for each boot
// image or TA it installs, what a device that booted or holds it claims
// (its name, sequence number, image digest, manifest digest and signers),
// and the device class it is for. The envelope must verify with keys,
// whose IDs become the signers. A TA's personalization data is not
// claimed, so it has no reference.
func Reference(envelope []byte, keys []*suit.Key) ([]comid.Reference, comid.Class, error) {
	env, err := suit.ParseEnvelope(envelope)
	if err != nil {
		return nil, comid.Class{}, err
	}
	v, err := env.Authenticate(keys)
	if err != nil {
		return nil, comid.Class{}, err
	}
	signers, err := signerIDs(v.Signers)
	if err != nil {
		return nil, comid.Class{}, err
	}
	params := manifestParameters(v.Manifest)
	var class comid.Class
	var refs []comid.Reference
	for i, id := range v.Manifest.Components {
		kind, ok := Kind(id)
		if !ok {
			continue
		}
		p := params[i]
		d, ok := p.Digest(suit.ParamImageDigest)
		if !ok || d.Alg != suit.AlgSHA256 {
			return nil, comid.Class{}, fmt.Errorf("%w: %s has no SHA-256 image digest", ErrNoReference, id)
		}
		if vid, ok := p.Bytes(suit.ParamVendorID); ok {
			class.OEMID = vid
		}
		if cid, ok := p.Bytes(suit.ParamClassID); ok {
			class.HWModel = cid
		}
		refs = append(refs, comid.Reference{Component: id.String(), Kind: kind, SequenceNumber: v.Manifest.SequenceNumber,
			Digest: d.Bytes, ManifestDigest: v.Digest.Bytes, Signers: signers})
	}
	if len(refs) == 0 {
		return nil, comid.Class{}, fmt.Errorf("%w: it installs no boot image or TA", ErrNoReference)
	}
	return refs, class, nil
}

// Kind says whether a device claims component id, and as what
// (comid.KindImage for a boot image, comid.KindTA for a TA).
func Kind(id suit.ComponentID) (string, bool) {
	if _, ok := boot.ComponentByID(id); ok {
		return comid.KindImage, true
	}
	if ta.IsTA(id) {
		return comid.KindTA, true
	}
	return "", false
}

// signerIDs decodes the key IDs (hex SHA-256 of the SubjectPublicKeyInfo)
// of the keys that signed a manifest.
func signerIDs(ids []string) ([]comid.Hex, error) {
	out := make([]comid.Hex, 0, len(ids))
	for _, id := range ids {
		b, err := hex.DecodeString(id)
		if err != nil {
			return nil, fmt.Errorf("reference: signer ID %q: %w", id, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// manifestParameters collects, for each component index, the parameters
// the manifest's shared sequence sets for it (override-parameters and
// set-parameters after set-component-index, override-multiple), which is
// where an image's digest and the device's vendor and class IDs are.
func manifestParameters(m *suit.Manifest) []suit.Parameters {
	params := make([]suit.Parameters, len(m.Components))
	for i := range params {
		params[i] = suit.Parameters{}
	}
	current := []uint64{0}
	set := func(i uint64, p suit.Parameters, override bool) {
		if i >= uint64(len(params)) {
			return
		}
		for k, v := range p {
			if _, had := params[i][k]; override || !had {
				params[i][k] = v
			}
		}
	}
	for _, cmd := range m.Shared {
		switch cmd.Code {
		case suit.DirSetComponentIndex:
			switch {
			case cmd.Index == nil:
			case cmd.Index.All:
				current = current[:0]
				for i := range params {
					current = append(current, uint64(i))
				}
			default:
				current = append(current[:0], cmd.Index.Indices...)
			}
		case suit.DirOverrideParameters, suit.DirSetParameters:
			for _, i := range current {
				set(i, cmd.Params, cmd.Code == suit.DirOverrideParameters)
			}
		case suit.DirOverrideMultiple:
			for _, ip := range cmd.Multiple {
				set(ip.Index, ip.Params, true)
			}
		}
	}
	return params
}

// ErrOtherClass: an envelope is for another device class than the
// reference values it would be added to.
var ErrOtherClass = errors.New("reference: the envelope is for another device class")

// Publish adds the reference values of each envelope to r (a version
// already there is replaced), which takes the class of the first.
func Publish(r *comid.ReferenceValues, keys []*suit.Key, envelopes ...[]byte) error {
	for i, env := range envelopes {
		refs, class, err := Reference(env, keys)
		if err != nil {
			return fmt.Errorf("envelope %d: %w", i+1, err)
		}
		switch {
		case len(r.Class.OEMID) == 0 && len(r.Class.HWModel) == 0:
			r.Class = class
		case !bytes.Equal(r.Class.OEMID, class.OEMID) || !bytes.Equal(r.Class.HWModel, class.HWModel):
			return fmt.Errorf("envelope %d: %w", i+1, ErrOtherClass)
		}
		r.Add(refs...)
	}
	return nil
}

// SecureImage reports whether id is the secure image, the component whose
// envelopes a device admits only with its operator's co-signature besides
// its author's (RFC 9019 §7): publishers check the same rule.
func SecureImage(id suit.ComponentID) bool {
	return boot.Secure.ID().Equal(id)
}
