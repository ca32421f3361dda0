package suit

import (
	"fmt"
	"maps"
	"slices"
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
	// SetVersion is suit-set-version: the version of the component set
	// the manifest installs, nil when absent.
	SetVersion []int64
	// ComponentID is suit-manifest-component-id: where a root manifest is
	// stored (trust domains §5.2.1), nil when absent.
	ComponentID ComponentID
	// Components is suit-components.
	Components []ComponentID
	// Dependencies is suit-dependencies: which component indices hold the
	// envelope of a dependency, with their metadata. Nil when none.
	Dependencies map[uint64]Dependency
	// ids resolves every component index, dependencies included.
	ids []ComponentID
	// Shared is the shared sequence, nil when absent.
	Shared Sequence
	// Members holds every command sequence and the text, by key.
	Members map[int64]*Member
}

// Dependency is the SUIT_Dependency_Metadata of one dependency.
type Dependency struct {
	// Prefix is suit-dependency-prefix, nil when absent.
	Prefix ComponentID
}

// IDs lists every component of the manifest by index: suit-components,
// then the dependency indices beyond them. A dependency's identifier is
// its prefix, where the dependency's envelope is kept; without one, the
// suit-components entry at its index.
func (m *Manifest) IDs() []ComponentID { return m.ids }

// IsDependency reports whether component index i holds a dependency.
func (m *Manifest) IsDependency(i int) bool {
	_, ok := m.Dependencies[uint64(i)]
	return i >= 0 && ok
}

// resolveIDs builds ids. The trust-domain examples (Appendix B) declare a
// dependency at index 1 while suit-components has one entry, so indices
// past suit-components are valid for dependencies that have a prefix.
func (m *Manifest) resolveIDs() error {
	n := len(m.Components)
	// In index order, so that of two bad dependencies the error always
	// names the same one.
	deps := slices.Sorted(maps.Keys(m.Dependencies))
	for _, i := range deps {
		if i >= MaxComponents {
			return malformed("dependency index %d", i)
		}
		n = max(n, int(i)+1)
	}
	m.ids = m.Components
	if n == len(m.Components) && len(m.Dependencies) == 0 {
		return nil
	}
	m.ids = make([]ComponentID, n)
	copy(m.ids, m.Components)
	for _, i := range deps {
		d := m.Dependencies[i]
		switch {
		case d.Prefix != nil:
			m.ids[i] = d.Prefix
		case int(i) >= len(m.Components):
			return malformed("dependency %d has neither a component nor a prefix", i)
		}
	}
	for i, id := range m.ids {
		if id == nil {
			return malformed("component index %d is neither a component nor a dependency", i)
		}
	}
	return nil
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
	m, err := readManifest(newReader(data))
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return m, nil
}

func readManifest(r *reader) (*Manifest, error) {
	n, err := r.mapHead()
	if err != nil {
		return nil, err
	}
	m := &Manifest{Members: map[int64]*Member{}}
	var seen keySet
	for range n {
		key, err := r.int()
		if err != nil {
			return nil, err
		}
		if err := seen.add(r, key); err != nil {
			return nil, err
		}
		switch {
		case key == KeyVersion:
			m.Version, err = r.uint()
			if err == nil && m.Version != ManifestVersion {
				return nil, unsupported("manifest version %d", m.Version)
			}
		case key == KeySequenceNumber:
			m.SequenceNumber, err = r.uint()
		case key == KeyCommon:
			var b []byte
			if b, err = r.bytes(); err == nil {
				err = m.readCommon(newReader(b))
			}
		case key == KeyReferenceURI:
			m.ReferenceURI, err = r.text()
		case key == KeyManifestComponentID:
			m.ComponentID, err = readComponentID(r)
		case key == KeySetVersion:
			var b []byte
			if b, err = r.bytes(); err == nil {
				m.SetVersion, err = decodeVersion(b)
			}
		case unseverableSequences[key]:
			var b []byte
			if b, err = r.bytes(); err == nil {
				m.Members[key] = &Member{Bytes: b}
			}
		case severableKeys[key]:
			m.Members[key], err = readSeverable(r)
		default:
			err = unsupported("manifest member %d", key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", SequenceName(key), err)
		}
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	for _, key := range []int64{KeyVersion, KeySequenceNumber, KeyCommon} {
		if !seen.contains(key) {
			return nil, malformed("manifest lacks member %d", key)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(m.Members)) {
		if err := m.Members[key].decodeCommands(key); err != nil {
			return nil, err
		}
	}
	if err := m.resolveIDs(); err != nil {
		return nil, err
	}
	return m, nil
}

// readSeverable reads a member that is either a bstr or a SUIT_Digest.
func readSeverable(r *reader) (*Member, error) {
	if m, _ := r.peek(); m == majorBytes {
		b, err := r.bytes()
		return &Member{Bytes: b}, err
	}
	d, err := readDigest(r)
	if err != nil {
		return nil, err
	}
	return &Member{Digest: &d}, nil
}

// decodeCommands decodes a command sequence member; text and CoSWID
// members hold no commands, and a CoSWID is only checked to be one
// well-formed CBOR item (update-management, suit-coswid: a recipient that does
// not consume it must not fail on it, but may on one that is malformed).
func (m *Member) decodeCommands(key int64) error {
	if m.Bytes == nil || key == KeyText {
		return nil
	}
	if key == KeyCoSWID {
		r := newReader(m.Bytes)
		if err := r.skipAny(maxNestedLevels); err != nil {
			return fmt.Errorf("%s: %w", SequenceName(key), err)
		}
		if err := r.done(); err != nil {
			return fmt.Errorf("%s: %w", SequenceName(key), err)
		}
		return nil
	}
	seq, err := decodeSequence(m.Bytes, 0, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", SequenceName(key), err)
	}
	m.Commands = seq
	return nil
}

func (m *Manifest) readCommon(r *reader) error {
	n, err := r.mapHead()
	if err != nil {
		return err
	}
	var seen keySet
	for range n {
		key, err := r.int()
		if err != nil {
			return err
		}
		if err := seen.add(r, key); err != nil {
			return err
		}
		switch key {
		case keyComponents:
			count, err := r.array(MaxComponents)
			if err != nil {
				return err
			}
			if count == 0 {
				return malformed("no components")
			}
			for range count {
				id, err := readComponentID(r)
				if err != nil {
					return err
				}
				m.Components = append(m.Components, id)
			}
		case keySharedSequence:
			b, err := r.bytes()
			if err != nil {
				return err
			}
			if m.Shared, err = decodeSequence(b, 0, 0); err != nil {
				return fmt.Errorf("shared sequence: %w", err)
			}
		case keyDependencies:
			if m.Dependencies, err = readDependencies(r); err != nil {
				return fmt.Errorf("dependencies: %w", err)
			}
		default:
			return unsupported("common member %d", key)
		}
	}
	if len(m.Components) == 0 {
		return malformed("common has no components")
	}
	return r.done()
}

func readDependencies(r *reader) (map[uint64]Dependency, error) {
	n, err := r.mapHead()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, malformed("empty dependency map")
	}
	deps := make(map[uint64]Dependency, n)
	for range n {
		i, err := r.uint()
		if err != nil {
			return nil, err
		}
		if _, dup := deps[i]; dup {
			return nil, r.errf("duplicate dependency %d", i)
		}
		count, err := r.mapHead()
		if err != nil {
			return nil, err
		}
		var d Dependency
		var seen keySet
		for range count {
			key, err := r.int()
			if err != nil {
				return nil, err
			}
			if err := seen.add(r, key); err != nil {
				return nil, err
			}
			if key != keyDependencyPrefix {
				return nil, unsupported("dependency metadata %d", key)
			}
			if d.Prefix, err = readComponentID(r); err != nil {
				return nil, err
			}
		}
		deps[i] = d
	}
	return deps, nil
}

// attachSevered checks every severed member the envelope carries against
// the digest the manifest holds for it, and attaches those that match.
func (m *Manifest) attachSevered(env *Envelope) error {
	for _, key := range slices.Sorted(maps.Keys(env.Severable)) {
		content := env.Severable[key]
		mem, ok := m.Members[key]
		if !ok || mem.Digest == nil {
			return malformed("envelope carries %s, which the manifest does not sever", SequenceName(key))
		}
		ok, err := mem.Digest.MatchesBstr(content)
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
