package suit

import (
	"fmt"
	"unicode"
)

// SUIT_Component_Metadata members (draft-ietf-suit-update-management,
// suit-parameter-component-metadata).
const (
	metaDefaultPermissions = 1
	metaUserPermissions    = 2
	metaGroupPermissions   = 3
	metaRolePermissions    = 4
	metaFileType           = 5
	metaModificationTime   = 6
	metaCreationTime       = 7
	metaCreator            = 8

	tagEpochTime = 1  // RFC 8949 §3.4.2
	tagUUID      = 37 // UUID_Tagged
)

// ComponentMetadata is suit-parameter-component-metadata: the file
// metadata (creator, times, permissions, file type) that a platform with
// a file system applies when it fetches, copies or writes a component. It
// is kept as its encoding, which decoding has checked against the draft's
// CDDL: known members of their types, text of the allowed Unicode
// categories, extension members well-formed.
//
// The processor applies none of it: a platform here has no file system,
// so a fetch, copy or write into a component whose parameters carry it is
// refused (ErrUnsupportedParameter) rather than store the image without
// the permissions its author asked for. Verifying and inspecting such a
// manifest work.
type ComponentMetadata []byte

func decodeComponentMetadata(b []byte) (ComponentMetadata, error) {
	r := newReader(b)
	n, err := r.mapHead()
	if err != nil {
		return nil, err
	}
	var seen keySet
	for range n {
		key, err := r.int()
		if err != nil {
			return nil, err
		}
		if err := seen.add(r, key); err != nil {
			return nil, err
		}
		switch key {
		case metaDefaultPermissions, metaFileType:
			_, err = r.uint()
		case metaUserPermissions, metaGroupPermissions, metaRolePermissions:
			err = readPermissionMap(r)
		case metaModificationTime, metaCreationTime:
			var tagged bool
			if tagged, err = r.tag(tagEpochTime); err == nil && !tagged {
				err = r.errf("time without tag 1")
			}
			if err == nil {
				_, err = r.uint()
			}
		case metaCreator:
			err = readActorID(r)
		default:
			// $$SUIT_Component_Metadata_Extensions: kept, not read.
			err = r.skipAny(maxNestedLevels - 2)
		}
		if err != nil {
			return nil, fmt.Errorf("component metadata %d: %w", key, err)
		}
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	return ComponentMetadata(b), nil
}

// readPermissionMap reads SUIT_meta_permission_map: {+ actor => permissions}.
func readPermissionMap(r *reader) error {
	n, err := r.mapHead()
	if err != nil {
		return err
	}
	if n == 0 {
		return r.errf("empty permission map")
	}
	for range n {
		if err := readActorID(r); err != nil {
			return err
		}
		if _, err := r.uint(); err != nil {
			return err
		}
	}
	return nil
}

// readActorID reads SUIT_meta_actor_id: UUID_Tagged / bstr / tstr / int.
func readActorID(r *reader) error {
	uuid, err := r.tag(tagUUID)
	if err != nil {
		return err
	}
	m, _ := r.peek()
	switch {
	case uuid:
		b, err := r.bytes()
		if err == nil && len(b) != 16 {
			err = r.errf("UUID of %d bytes", len(b))
		}
		return err
	case m == majorBytes:
		_, err := r.bytes()
		return err
	case m == majorText:
		s, err := r.text()
		if err == nil {
			err = metadataText(r, s)
		}
		return err
	}
	_, err = r.int()
	return err
}

// metadataText applies the draft's rule for text in component metadata:
// Unicode categories L, M, N, P, S and Zs only, so that no control or
// format character reaches a file system or a log.
func metadataText(r *reader, s string) error {
	for _, c := range s {
		if !unicode.In(c, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs) {
			return r.errf("text with character %U", c)
		}
	}
	return nil
}

// String renders the metadata in CBOR diagnostic notation.
func (m ComponentMetadata) String() string {
	s, err := Diagnose(m)
	if err != nil {
		return fmt.Sprintf("h'%x'", []byte(m))
	}
	return s
}

// MarshalText renders the metadata as String does, so that JSON shows it
// readably.
func (m ComponentMetadata) MarshalText() ([]byte, error) { return []byte(m.String()), nil }
