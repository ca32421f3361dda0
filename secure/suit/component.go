package suit

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
)

// ComponentID is a SUIT_Component_Identifier: an array of byte strings,
// hierarchical like a path.
type ComponentID [][]byte

// Equal reports whether two identifiers are the same.
func (c ComponentID) Equal(o ComponentID) bool {
	if len(c) != len(o) {
		return false
	}
	for i := range c {
		if !bytes.Equal(c[i], o[i]) {
			return false
		}
	}
	return true
}

// HasPrefix reports whether p is a leading part of c.
func (c ComponentID) HasPrefix(p ComponentID) bool {
	return len(p) <= len(c) && ComponentID(c[:len(p)]).Equal(p)
}

// String renders printable parts as 'text' and others as hex: ['usr','bin'], [00].
func (c ComponentID) String() string {
	parts := make([]string, len(c))
	for i, p := range c {
		if printable(p) {
			parts[i] = "'" + string(p) + "'"
		} else {
			parts[i] = hex.EncodeToString(p)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func printable(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, r := range string(b) {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) || r == '\'' || r == ',' {
			return false
		}
	}
	return true
}

func readComponentID(r *reader) (ComponentID, error) {
	n, err := r.array(MaxComponentIDParts)
	if err != nil {
		return nil, fmt.Errorf("component identifier: %w", err)
	}
	id := make(ComponentID, n)
	for i := range id {
		if id[i], err = r.bytes(); err != nil {
			return nil, fmt.Errorf("component identifier: %w", err)
		}
	}
	return id, nil
}
