package suit

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// ManifestVersion is the only suit-manifest-version this processor accepts.
const ManifestVersion = 1

// Manifest is a decoded SUIT_Manifest. It is only ever built from bytes
// whose digest was authenticated (see Authenticate), or explicitly
// unverified for display (Envelope.ManifestUnverified).
//
// Wire compatibility: unknown integer members are refused as unsupported;
// extensions (trust domains, update management) add their keys here.
type Manifest struct {
	Version        uint64
	SequenceNumber uint64
	ReferenceURI   string
	Components     []ComponentID
	// Shared is the shared sequence, nil when absent.
	Shared Sequence
	// Members holds every command sequence and the text, by key.
	Members map[int64]*Member
}

// Member is a manifest member that may be severed.
type Member struct {
	// Digest is set when the member was severed from the manifest.
	Digest *Digest
	// Bytes is the member's encoding: inline, or from the envelope once its
	// digest matched. Nil when severed and not supplied.
	Bytes []byte
	// Commands is the decoded sequence, for command sequences.
	Commands Sequence
}

// Present reports whether the member's content is available.
func (m *Member) Present() bool { return m != nil && m.Bytes != nil }

func decodeManifest(data []byte) (*Manifest, error) {
	var raw map[int64]cbor.RawMessage
	if err := decodeStrict(data, &raw); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m := &Manifest{Members: map[int64]*Member{}}
	for _, key := range []int64{KeyVersion, KeySequenceNumber, KeyCommon} {
		if _, ok := raw[key]; !ok {
			return nil, malformed("manifest lacks member %d", key)
		}
	}
	if err := decodeStrict(raw[KeyVersion], &m.Version); err != nil {
		return nil, fmt.Errorf("manifest version: %w", err)
	}
	if m.Version != ManifestVersion {
		return nil, unsupported("manifest version %d", m.Version)
	}
	if err := decodeStrict(raw[KeySequenceNumber], &m.SequenceNumber); err != nil {
		return nil, fmt.Errorf("sequence number: %w", err)
	}
	for key, v := range raw {
		var err error
		switch {
		case key == KeyVersion || key == KeySequenceNumber:
		case key == KeyCommon:
			err = m.decodeCommon(v)
		case key == KeyReferenceURI:
			err = decodeStrict(v, &m.ReferenceURI)
		case unseverableSequences[key]:
			var b []byte
			if err = decodeStrict(v, &b); err == nil {
				m.Members[key] = &Member{Bytes: b}
			}
		case severableKeys[key]:
			m.Members[key], err = decodeSeverable(v)
		default:
			err = unsupported("manifest member %d", key)
		}
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", SequenceName(key), err)
		}
	}
	for key, mem := range m.Members {
		if err := mem.decodeCommands(key); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// decodeSeverable reads a member that is either a bstr or a SUIT_Digest.
func decodeSeverable(v cbor.RawMessage) (*Member, error) {
	var b []byte
	if err := decodeStrict(v, &b); err == nil {
		return &Member{Bytes: b}, nil
	}
	d, err := decodeDigest(v)
	if err != nil {
		return nil, err
	}
	return &Member{Digest: &d}, nil
}

func (mem *Member) decodeCommands(key int64) error {
	if key == KeyText || mem.Bytes == nil {
		return nil
	}
	seq, err := decodeSequence(mem.Bytes, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", SequenceName(key), err)
	}
	mem.Commands = seq
	return nil
}

func (m *Manifest) decodeCommon(v cbor.RawMessage) error {
	var b []byte
	if err := decodeStrict(v, &b); err != nil {
		return err
	}
	var raw map[int64]cbor.RawMessage
	if err := decodeStrict(b, &raw); err != nil {
		return err
	}
	for key, item := range raw {
		switch key {
		case keyComponents:
			var ids []cbor.RawMessage
			if err := decodeStrict(item, &ids); err != nil {
				return err
			}
			if len(ids) == 0 || len(ids) > MaxComponents {
				return malformed("%d components", len(ids))
			}
			for _, rawID := range ids {
				id, err := decodeComponentID(rawID)
				if err != nil {
					return err
				}
				m.Components = append(m.Components, id)
			}
		case keySharedSequence:
			var seq []byte
			if err := decodeStrict(item, &seq); err != nil {
				return err
			}
			s, err := decodeSequence(seq, 0)
			if err != nil {
				return fmt.Errorf("shared sequence: %w", err)
			}
			m.Shared = s
		default:
			return unsupported("common member %d", key)
		}
	}
	if len(m.Components) == 0 {
		return malformed("common has no components")
	}
	return nil
}

// attachSevered checks every severed member the envelope carries against
// the digest the manifest holds for it, and attaches those that match.
func (m *Manifest) attachSevered(env *Envelope) error {
	for key, content := range env.Severable {
		mem, ok := m.Members[key]
		if !ok || mem.Digest == nil {
			return malformed("envelope carries %s, which the manifest does not sever", SequenceName(key))
		}
		ok, err := mem.Digest.Matches(bstrEncoding(content))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("severed %s: %w", SequenceName(key), ErrDigestMismatch)
		}
		mem.Bytes = content
		if err := mem.decodeCommands(key); err != nil {
			return err
		}
	}
	return nil
}

// ManifestUnverified decodes the manifest without checking the digest or
// any signature, for display only: nothing it returns may be acted on.
// Severed members are attached only where their digests match.
func (e *Envelope) ManifestUnverified() (*Manifest, error) {
	m, err := decodeManifest(e.Manifest)
	if err != nil {
		return nil, err
	}
	return m, m.attachSevered(e)
}
