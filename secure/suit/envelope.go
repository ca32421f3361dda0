package suit

import "fmt"

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
	// as the content of their bstr. Nil when there are none.
	Severable map[int64][]byte
	// Integrated holds integrated payloads (and, with trust domains,
	// integrated dependencies) by their text key. Nil when there are none.
	Integrated map[string][]byte
}

// ParseEnvelope decodes an envelope, tagged or not. It checks structure
// only: call Authenticate before using anything inside. The envelope's
// byte slices alias data, which must not change while it is in use.
func ParseEnvelope(data []byte) (*Envelope, error) {
	if len(data) > MaxEnvelopeSize {
		return nil, malformed("envelope of %d bytes exceeds %d", len(data), MaxEnvelopeSize)
	}
	env, err := parseEnvelope(newReader(data))
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", err)
	}
	return env, nil
}

func parseEnvelope(r *reader) (*Envelope, error) {
	tagged, err := r.tag(TagEnvelope)
	if err != nil {
		return nil, err
	}
	n, err := r.mapHead()
	if err != nil {
		return nil, err
	}
	env := &Envelope{Tagged: tagged}
	var seen keySet
	for range n {
		if m, _ := r.peek(); m == majorText {
			key, err := r.text()
			if err != nil {
				return nil, err
			}
			if _, dup := env.Integrated[key]; dup {
				return nil, r.errf("duplicate integrated payload %q", key)
			}
			if env.Integrated == nil {
				env.Integrated = map[string][]byte{}
			}
			if len(env.Integrated) == MaxIntegratedPayloads {
				return nil, malformed("more than %d integrated payloads", MaxIntegratedPayloads)
			}
			if env.Integrated[key], err = r.bytes(); err != nil {
				return nil, err
			}
			continue
		}
		key, err := r.int()
		if err != nil {
			return nil, err
		}
		if err := seen.add(r, key); err != nil {
			return nil, err
		}
		content, err := r.bytes()
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", key, err)
		}
		switch {
		case key == KeyAuthWrapper:
			env.AuthWrapper = content
		case key == KeyManifest:
			env.Manifest = content
		case severableKeys[key]:
			if env.Severable == nil {
				env.Severable = map[int64][]byte{}
			}
			env.Severable[key] = content
		default:
			return nil, unsupported("envelope member %d", key)
		}
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	if env.AuthWrapper == nil {
		return nil, malformed("no authentication wrapper")
	}
	if env.Manifest == nil {
		return nil, malformed("no manifest")
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
	c.Severable = nil
	return &c
}

// Authentication is a decoded SUIT_Authentication: the encoded SUIT_Digest
// of the manifest followed by the encoded authentication blocks.
type Authentication struct {
	DigestBytes []byte
	Blocks      [][]byte
}

func decodeAuthentication(data []byte) (*Authentication, error) {
	r := newReader(data)
	n, err := r.array(MaxAuthBlocks + 1)
	if err != nil {
		return nil, fmt.Errorf("authentication wrapper: %w", err)
	}
	if n == 0 {
		return nil, malformed("authentication wrapper is empty")
	}
	auth := &Authentication{}
	for i := range n {
		b, err := r.bytes()
		if err != nil {
			return nil, fmt.Errorf("authentication wrapper: %w", err)
		}
		if i == 0 {
			auth.DigestBytes = b
		} else {
			auth.Blocks = append(auth.Blocks, b)
		}
	}
	return auth, r.done()
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
	ok, err := d.MatchesBstr(e.Manifest)
	if err != nil {
		return Digest{}, err
	}
	if !ok {
		return Digest{}, fmt.Errorf("manifest: %w", ErrDigestMismatch)
	}
	return d, nil
}
