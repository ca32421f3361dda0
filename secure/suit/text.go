package suit

import "fmt"

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
	r := newReader(data)
	n, err := r.mapHead()
	if err != nil {
		return nil, fmt.Errorf("text: %w", err)
	}
	out := make(map[string]TextEntry, n)
	for range n {
		lang, err := r.text()
		if err != nil {
			return nil, fmt.Errorf("text: %w", err)
		}
		if _, dup := out[lang]; dup {
			return nil, r.errf("duplicate language %q", lang)
		}
		e, err := readTextEntry(r)
		if err != nil {
			return nil, fmt.Errorf("text %s: %w", lang, err)
		}
		out[lang] = e
	}
	return out, r.done()
}

func readTextEntry(r *reader) (TextEntry, error) {
	e := TextEntry{Manifest: map[int64]string{}}
	n, err := r.mapHead()
	if err != nil {
		return e, err
	}
	for range n {
		if m, _ := r.peek(); m == majorArray {
			id, err := readComponentID(r)
			if err != nil {
				return e, err
			}
			for _, c := range e.Components {
				if c.ID.Equal(id) {
					return e, r.errf("duplicate component %s", id)
				}
			}
			text, err := readTextMap(r)
			if err != nil {
				return e, fmt.Errorf("component %s: %w", id, err)
			}
			e.Components = append(e.Components, ComponentText{ID: id, Text: text})
			continue
		}
		key, err := r.int()
		if err != nil {
			return e, err
		}
		if _, dup := e.Manifest[key]; dup {
			return e, r.errf("duplicate text key %d", key)
		}
		if e.Manifest[key], err = r.text(); err != nil {
			return e, err
		}
	}
	return e, nil
}

func readTextMap(r *reader) (map[int64]string, error) {
	n, err := r.mapHead()
	if err != nil {
		return nil, err
	}
	m := make(map[int64]string, n)
	for range n {
		key, err := r.int()
		if err != nil {
			return nil, err
		}
		if _, dup := m[key]; dup {
			return nil, r.errf("duplicate text key %d", key)
		}
		if m[key], err = r.text(); err != nil {
			return nil, err
		}
	}
	return m, nil
}
