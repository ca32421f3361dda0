// Package keys holds what the secure world trusts: trust anchors, each
// bound to the component-ID prefixes its key may touch, and the rules for
// components that need more than one signer (RFC 9019 §7: the secure image
// needs the firmware author's and the device operator's signatures).
//
// A Policy is THE authorizer of the secure world: Verify is the one step
// (parse, authenticate, authorize) by which the update service, the
// bootloader and later the TEEP agent admit an envelope, and the Policy is
// the suit.Authorizer that processing uses for dependencies (trust
// domains), so that both decide alike.
//
// It trusts its own configuration only. Authorize runs on a manifest that
// suit.Authenticate has already verified and decides whether the keys that
// verified it may act on every component it names.
package keys

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/ta"
)

// ErrUnauthorized is returned when the signers of a verified manifest may
// not act on one of its components. It is a suit.ErrUnauthorized (and so
// a suit.ErrRejected), which a SUIT report gives as component-unauthorised.
var ErrUnauthorized = fmt.Errorf("keys: %w", suit.ErrUnauthorized)

// Policy implements suit.Authorizer.
var _ suit.Authorizer = (*Policy)(nil)

// Anchor is a trusted key with the components it may touch.
type Anchor struct {
	// Name identifies the anchor in co-signing rules and errors.
	Name string
	Key  *suit.Key
	// Prefixes are the component IDs (or their leading parts) the key may
	// touch; an empty list authorizes nothing.
	Prefixes []suit.ComponentID
	// Personalization narrows the anchor to TA personalization data: of
	// the components under its prefixes it may touch only a TA's
	// personalization component ["TA", author, name, "personalization"]
	// and those under it (the staging component of its ciphertext), never
	// a TA itself. A TAM's key is such an anchor (TAMAnchor).
	Personalization bool
}

// TAMAnchor is the anchor of a TAM's key on a device: it may sign the
// personalization data of every TA (which the TAM encrypts to the device),
// and nothing else.
func TAMAnchor(name string, key *suit.Key) Anchor {
	return Anchor{Name: name, Key: key, Prefixes: []suit.ComponentID{{[]byte(ta.Namespace)}}, Personalization: true}
}

// mayTouch reports whether the anchor covers id.
func (a *Anchor) mayTouch(id suit.ComponentID) bool {
	if !covers(a.Prefixes, id) {
		return false
	}
	if !a.Personalization {
		return true
	}
	_, isTA := ta.Of(id)
	return isTA && len(id) >= 4 && string(id[3]) == ta.PersonalizationSuffix
}

// CoSign requires, for every component under Prefix, a signature by each
// of the named anchors.
type CoSign struct {
	Prefix   suit.ComponentID
	Required []string
}

// Policy is the set of anchors and co-signing rules, and the TAMs the
// device's TEEP Agent trusts. The zero value trusts nothing.
type Policy struct {
	Anchors []Anchor
	CoSign  []CoSign
	// TAMs are the public keys of the TAMs whose TEEP messages the Agent
	// answers. They authorize no manifest: a TAM sends envelopes its
	// authors signed. A device that trusts no TAM has no Agent.
	TAMs []*suit.Key
}

// Verify parses an envelope, authenticates it against the anchors' keys
// and authorizes every component its manifest names: nothing else of an
// envelope may be trusted before it returns. The errors are suit's
// (ErrMalformed, ErrBadSignature, ErrUnauthenticated, ErrDigestMismatch...)
// and ErrUnauthorized, all suit.ErrRejected.
func (p *Policy) Verify(envelope []byte) (*suit.Verified, error) {
	env, err := suit.ParseEnvelope(envelope)
	if err != nil {
		return nil, err
	}
	v, err := env.Authenticate(p.Keys())
	if err != nil {
		return nil, err
	}
	if err := p.Authorize(v); err != nil {
		return nil, err
	}
	return v, nil
}

// Keys lists the anchors' keys, for suit.Envelope.Authenticate.
func (p *Policy) Keys() []*suit.Key {
	keys := make([]*suit.Key, len(p.Anchors))
	for i, a := range p.Anchors {
		keys[i] = a.Key
	}
	return keys
}

// Authorize checks that every component of the verified manifest is under
// a prefix of at least one anchor that signed it, and that every co-signing
// rule covering the component is met.
func (p *Policy) Authorize(v *suit.Verified) error {
	for _, id := range v.Manifest.Components {
		if err := p.authorizeComponent(v.Signers, id); err != nil {
			return err
		}
	}
	return nil
}

// MayTouch implements suit.Authorizer with the same rules as Authorize:
// a manifest that the keys with these IDs signed may act on id.
func (p *Policy) MayTouch(signers []string, id suit.ComponentID) bool {
	return p.authorizeComponent(signers, id) == nil
}

func (p *Policy) authorizeComponent(signers []string, id suit.ComponentID) error {
	signedBy := func(keyID string) bool { return slices.Contains(signers, keyID) }
	allowed := false
	for _, a := range p.Anchors {
		if signedBy(a.Key.ID) && a.mayTouch(id) {
			allowed = true
			break
		}
	}
	if !allowed {
		return fmt.Errorf("component %s: no signer may touch it: %w", id, ErrUnauthorized)
	}
	for _, rule := range p.CoSign {
		if !id.HasPrefix(rule.Prefix) {
			continue
		}
		var missing []string
		for _, name := range rule.Required {
			a := p.anchor(name)
			if a == nil || !signedBy(a.Key.ID) || !a.mayTouch(id) {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("component %s: missing signature of %s: %w", id, strings.Join(missing, ", "), ErrUnauthorized)
		}
	}
	return nil
}

func (p *Policy) anchor(name string) *Anchor {
	for i := range p.Anchors {
		if p.Anchors[i].Name == name {
			return &p.Anchors[i]
		}
	}
	return nil
}

func covers(prefixes []suit.ComponentID, id suit.ComponentID) bool {
	for _, pre := range prefixes {
		if id.HasPrefix(pre) {
			return true
		}
	}
	return false
}

// Validate reports configuration mistakes: unnamed or duplicate anchors,
// rules naming unknown anchors.
func (p *Policy) Validate() error {
	seen := map[string]bool{}
	for _, a := range p.Anchors {
		if a.Name == "" || a.Key == nil {
			return errors.New("keys: anchor without a name or key")
		}
		if seen[a.Name] {
			return fmt.Errorf("keys: two anchors named %q", a.Name)
		}
		seen[a.Name] = true
	}
	for _, r := range p.CoSign {
		for _, n := range r.Required {
			if !seen[n] {
				return fmt.Errorf("keys: co-signing rule names unknown anchor %q", n)
			}
		}
	}
	for _, k := range p.TAMs {
		if k == nil || k.Public == nil {
			return errors.New("keys: a TAM key that is not a public key")
		}
	}
	return nil
}
