package ta

import (
	"errors"
	"slices"

	"github.com/teeup/teeup/secure/suit"
)

// Namespace is the first element of every TA's component ID: a TA is
// ["TA", author, name], so that an author's trust anchor can be bound to
// ["TA", author] and touch its own TAs only.
const Namespace = "TA"

// PersonalizationSuffix is the last element of the component that holds a
// TA's personalization data: ["TA", author, name, "personalization"].
const PersonalizationSuffix = "personalization"

// ErrNotTA is returned for a component ID that is not a TA's.
var ErrNotTA = errors.New("ta: not a TA component ID")

// IsTA reports whether id names a TA: ["TA", author, name].
func IsTA(id suit.ComponentID) bool {
	return len(id) == 3 && string(id[0]) == Namespace && len(id[1]) > 0 && len(id[2]) > 0
}

// Of returns the TA a component belongs to: the TA itself, its
// personalization data, or another component under it (such as the staging
// component of an encrypted payload).
func Of(id suit.ComponentID) (suit.ComponentID, bool) {
	if len(id) < 3 || !IsTA(id[:3]) {
		return nil, false
	}
	return id[:3], true
}

// IsPersonalization reports whether id is the personalization component
// of a TA.
func IsPersonalization(id suit.ComponentID) bool {
	return len(id) == 4 && IsTA(id[:3]) && string(id[3]) == PersonalizationSuffix
}

// Prefix is the component-ID prefix of an author's TAs, which the
// author's trust anchor is bound to.
func Prefix(author string) suit.ComponentID {
	return suit.ComponentID{[]byte(Namespace), []byte(author)}
}

// IsManifest reports whether every component of m belongs to a TA: a
// manifest for the TA installer rather than for firmware.
func IsManifest(m *suit.Manifest) bool {
	for _, id := range m.Components {
		if _, ok := Of(id); !ok {
			return false
		}
	}
	return len(m.Components) > 0
}

// Touched lists the TAs a manifest's components belong to, once each.
func Touched(m *suit.Manifest) []suit.ComponentID {
	var out []suit.ComponentID
	for _, id := range m.Components {
		ta, _ := Of(id)
		if !slices.ContainsFunc(out, ta.Equal) {
			out = append(out, ta)
		}
	}
	return out
}
