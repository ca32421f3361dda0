package suit

import (
	"bytes"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// TextEntry is the text of one language: manifest-level keys, and
// per-component keys.
type TextEntry struct {
	Manifest   map[int64]string
	Components []ComponentText
}

// ComponentText is the text about one component.
type ComponentText struct {
	ID   ComponentID
	Text map[int64]string
}

// DecodeText decodes a SUIT_Text_Map (draft-37 §8.4.4): language tag to a
// map whose keys are text keys or component identifiers.
func DecodeText(data []byte) (map[string]TextEntry, error) {
	var langs map[string]cbor.RawMessage
	if err := decodeStrict(data, &langs); err != nil {
		return nil, fmt.Errorf("text: %w", err)
	}
	out := make(map[string]TextEntry, len(langs))
	for lang, raw := range langs {
		pairs, err := mapPairs(raw)
		if err != nil {
			return nil, fmt.Errorf("text %s: %w", lang, err)
		}
		e := TextEntry{Manifest: map[int64]string{}}
		for _, p := range pairs {
			var key int64
			if decodeStrict(p[0], &key) == nil {
				var s string
				if err := decodeStrict(p[1], &s); err != nil {
					return nil, fmt.Errorf("text %s key %d: %w", lang, key, err)
				}
				e.Manifest[key] = s
				continue
			}
			id, err := decodeComponentID(p[0])
			if err != nil {
				return nil, fmt.Errorf("text %s: %w", lang, err)
			}
			var m map[int64]string
			if err := decodeStrict(p[1], &m); err != nil {
				return nil, fmt.Errorf("text %s component %s: %w", lang, id, err)
			}
			e.Components = append(e.Components, ComponentText{ID: id, Text: m})
		}
		out[lang] = e
	}
	return out, nil
}

// mapPairs splits an encoded definite-length map into its raw key and
// value items, refusing duplicate keys (deterministic encoding makes equal
// keys equal bytes).
func mapPairs(data []byte) ([][2]cbor.RawMessage, error) {
	if err := decMode.Wellformed(data); err != nil {
		return nil, malformed("%v", err)
	}
	if len(data) == 0 || data[0]>>5 != 5 {
		return nil, malformed("not a map")
	}
	n, rest, err := itemLength(data)
	if err != nil {
		return nil, err
	}
	if n > maxMapPairs {
		return nil, malformed("map of %d pairs", n)
	}
	pairs := make([][2]cbor.RawMessage, 0, n)
	for i := uint64(0); i < n; i++ {
		var p [2]cbor.RawMessage
		for j := range p {
			var item cbor.RawMessage
			if rest, err = decMode.UnmarshalFirst(rest, &item); err != nil {
				return nil, malformed("%v", err)
			}
			p[j] = item
		}
		for _, q := range pairs {
			if bytes.Equal(q[0], p[0]) {
				return nil, malformed("duplicate map key")
			}
		}
		pairs = append(pairs, p)
	}
	return pairs, nil
}

// itemLength reads the argument of a CBOR head (definite lengths only).
func itemLength(data []byte) (uint64, []byte, error) {
	info := data[0] & 0x1f
	switch {
	case info < 24:
		return uint64(info), data[1:], nil
	case info <= 27:
		size := 1 << (info - 24)
		if len(data) < 1+size {
			return 0, nil, malformed("truncated head")
		}
		var n uint64
		for _, b := range data[1 : 1+size] {
			n = n<<8 | uint64(b)
		}
		return n, data[1+size:], nil
	}
	return 0, nil, malformed("indefinite or reserved length")
}
