package suit

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// TagEnvelope is the CBOR tag of SUIT_Envelope_Tagged.
const TagEnvelope = 107

// Envelope is a decoded SUIT_Envelope, none of it trusted yet.
//
// The manifest and the authentication wrapper are kept as the exact bytes
// that were received, since the digest and the signatures cover them; the
// manifest is decoded only by Authenticate. Wire compatibility: new
// envelope members get new integer keys; an unknown integer key is refused
// (ErrUnsupported) rather than ignored, because it may carry a command
// sequence this processor would otherwise skip.
type Envelope struct {
	// Tagged records whether the envelope carried tag 107.
	Tagged bool
	// AuthWrapper is the content of the bstr at key 2 (SUIT_Authentication).
	AuthWrapper []byte
	// Manifest is the content of the bstr at key 3 (SUIT_Manifest).
	Manifest []byte
	// Severable holds severed members carried in the envelope, by key,
	// as the content of their bstr.
	Severable map[int64][]byte
	// Integrated holds integrated payloads (and, with trust domains,
	// integrated dependencies) by their text key.
	Integrated map[string][]byte
}

// ParseEnvelope decodes an envelope, tagged or not. It checks structure
// only: call Authenticate before using anything inside.
func ParseEnvelope(data []byte) (*Envelope, error) {
	if len(data) > MaxEnvelopeSize {
		return nil, malformed("envelope of %d bytes exceeds %d", len(data), MaxEnvelopeSize)
	}
	body, tagged := untag(data, TagEnvelope)
	var members map[any]cbor.RawMessage
	if err := decodeStrict(body, &members); err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	env := &Envelope{Tagged: tagged, Severable: map[int64][]byte{}, Integrated: map[string][]byte{}}
	for k, raw := range members {
		var content []byte
		if err := decodeStrict(raw, &content); err != nil {
			return nil, fmt.Errorf("envelope member %v: %w", k, err)
		}
		switch key := k.(type) {
		case int64:
			switch {
			case key == KeyAuthWrapper:
				env.AuthWrapper = content
			case key == KeyManifest:
				env.Manifest = content
			case severableKeys[key]:
				env.Severable[key] = content
			default:
				return nil, unsupported("envelope member %d", key)
			}
		case string:
			if len(env.Integrated) == MaxIntegratedPayloads {
				return nil, malformed("more than %d integrated payloads", MaxIntegratedPayloads)
			}
			env.Integrated[key] = content
		default:
			return nil, malformed("envelope key of type %T", k)
		}
	}
	if env.AuthWrapper == nil {
		return nil, malformed("envelope has no authentication wrapper")
	}
	if env.Manifest == nil {
		return nil, malformed("envelope has no manifest")
	}
	if len(env.Manifest) > MaxManifestSize {
		return nil, malformed("manifest of %d bytes exceeds %d", len(env.Manifest), MaxManifestSize)
	}
	return env, nil
}

// Encode returns the deterministic encoding of the envelope. An envelope
// decoded from deterministic CBOR encodes to the same bytes.
func (e *Envelope) Encode() []byte {
	m := map[any][]byte{KeyAuthWrapper: e.AuthWrapper, KeyManifest: e.Manifest}
	for k, v := range e.Severable {
		m[k] = v
	}
	for k, v := range e.Integrated {
		m[k] = v
	}
	out := mustMarshal(m)
	if e.Tagged {
		out = append(tagHead(TagEnvelope), out...)
	}
	return out
}

// Sever returns a copy of the envelope without its severable members: the
// manifest keeps their digests, so the signature still verifies.
func (e *Envelope) Sever() *Envelope {
	c := *e
	c.Severable = map[int64][]byte{}
	return &c
}

// Authentication is a decoded SUIT_Authentication: the encoded SUIT_Digest
// of the manifest followed by the encoded authentication blocks.
type Authentication struct {
	DigestBytes []byte
	Blocks      [][]byte
}

func decodeAuthentication(data []byte) (*Authentication, error) {
	var items [][]byte
	if err := decodeStrict(data, &items); err != nil {
		return nil, fmt.Errorf("authentication wrapper: %w", err)
	}
	if len(items) == 0 {
		return nil, malformed("authentication wrapper is empty")
	}
	if len(items)-1 > MaxAuthBlocks {
		return nil, malformed("%d authentication blocks exceed %d", len(items)-1, MaxAuthBlocks)
	}
	return &Authentication{DigestBytes: items[0], Blocks: items[1:]}, nil
}

// Encode returns the encoded SUIT_Authentication.
func (a *Authentication) Encode() []byte {
	return mustMarshal(append([][]byte{a.DigestBytes}, a.Blocks...))
}

// ManifestDigest is the SUIT_Digest that the authentication wrapper holds:
// the digest over the bstr-wrapped manifest, as the draft's examples show.
func (e *Envelope) ManifestDigest() (Digest, error) {
	auth, err := decodeAuthentication(e.AuthWrapper)
	if err != nil {
		return Digest{}, err
	}
	return decodeDigest(auth.DigestBytes)
}

// CheckDigest verifies that the manifest matches the digest in the
// authentication wrapper. It does not check any signature.
func (e *Envelope) CheckDigest() (Digest, error) {
	auth, err := decodeAuthentication(e.AuthWrapper)
	if err != nil {
		return Digest{}, err
	}
	return e.checkDigest(auth)
}

func (e *Envelope) checkDigest(auth *Authentication) (Digest, error) {
	d, err := decodeDigest(auth.DigestBytes)
	if err != nil {
		return Digest{}, err
	}
	ok, err := d.Matches(bstrEncoding(e.Manifest))
	if err != nil {
		return Digest{}, err
	}
	if !ok {
		return Digest{}, fmt.Errorf("manifest: %w", ErrDigestMismatch)
	}
	return d, nil
}
