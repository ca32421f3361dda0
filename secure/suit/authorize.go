package suit

// Authorizer is the trust policy of a processing run (trust-domains §5.1,
// §9): the keys that may sign dependencies, and which components the
// signers of a manifest may touch. A dependent may touch what its own
// signers may, and what the signers of the dependencies it has verified
// may (so that a distributor's manifest can act on the components of the
// author it depends on); a dependency may touch only what its signers may.
//
// secure/keys builds the device's policy; TrustAnchors is a simple one.
type Authorizer interface {
	// Keys lists the keys that authenticate dependencies.
	Keys() []*Key
	// MayTouch reports whether a manifest that the keys with these IDs
	// signed may act on the component id.
	MayTouch(signers []string, id ComponentID) bool
}

// TrustAnchor is a key and the component-ID prefixes it may touch. An
// empty prefix (ComponentID{}) covers every component.
type TrustAnchor struct {
	Key      *Key
	Prefixes []ComponentID
}

// TrustAnchors is an Authorizer over a list of anchors: a component may
// be touched if any anchor whose key signed has a prefix of it. Safe for
// concurrent use if not modified.
type TrustAnchors []TrustAnchor

// Keys implements Authorizer.
func (a TrustAnchors) Keys() []*Key {
	keys := make([]*Key, len(a))
	for i, t := range a {
		keys[i] = t.Key
	}
	return keys
}

// MayTouch implements Authorizer.
func (a TrustAnchors) MayTouch(signers []string, id ComponentID) bool {
	for _, t := range a {
		signed := false
		for _, s := range signers {
			signed = signed || s == t.Key.ID
		}
		if !signed {
			continue
		}
		for _, p := range t.Prefixes {
			if id.HasPrefix(p) {
				return true
			}
		}
	}
	return false
}
