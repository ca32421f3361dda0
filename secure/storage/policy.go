package storage

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
)

// storedPolicy is the device's trust policy as the store keeps it: sealed
// with the rest, so that what the device trusts cannot be changed by
// rewriting files beside it.
type storedPolicy struct {
	Anchors []storedAnchor `cbor:"1,keyasint"`
	CoSign  []storedCoSign `cbor:"2,keyasint,omitempty"`
	TAMs    [][]byte       `cbor:"3,keyasint,omitempty"` // PKIX DER
}

type storedAnchor struct {
	Name     string             `cbor:"1,keyasint"`
	Key      []byte             `cbor:"2,keyasint"` // PKIX DER
	Prefixes []suit.ComponentID `cbor:"3,keyasint"`
	// Personalization: keys.Anchor.Personalization (absent when false, so
	// that the policies sealed before it decode alike).
	Personalization bool `cbor:"4,keyasint,omitempty"`
}

type storedCoSign struct {
	Prefix   suit.ComponentID `cbor:"1,keyasint"`
	Required []string         `cbor:"2,keyasint"`
}

// ErrPolicy: a policy cannot be stored (an anchor without a public key)
// or the stored one does not decode.
var ErrPolicy = errors.New("storage: trust policy")

func encodePolicy(p *keys.Policy) (*storedPolicy, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	out := &storedPolicy{}
	for _, a := range p.Anchors {
		if a.Key.Public == nil {
			return nil, fmt.Errorf("%w: anchor %q is not a public key", ErrPolicy, a.Name)
		}
		der, err := x509.MarshalPKIXPublicKey(a.Key.Public)
		if err != nil {
			return nil, fmt.Errorf("%w: anchor %q: %v", ErrPolicy, a.Name, err)
		}
		out.Anchors = append(out.Anchors, storedAnchor{Name: a.Name, Key: der, Prefixes: a.Prefixes, Personalization: a.Personalization})
	}
	for _, r := range p.CoSign {
		out.CoSign = append(out.CoSign, storedCoSign{Prefix: r.Prefix, Required: r.Required})
	}
	for i, k := range p.TAMs {
		der, err := x509.MarshalPKIXPublicKey(k.Public)
		if err != nil {
			return nil, fmt.Errorf("%w: TAM key %d: %v", ErrPolicy, i, err)
		}
		out.TAMs = append(out.TAMs, der)
	}
	return out, nil
}

func (sp *storedPolicy) decode() (*keys.Policy, error) {
	if sp == nil {
		return nil, fmt.Errorf("%w: none stored", ErrPolicy)
	}
	p := &keys.Policy{}
	for _, a := range sp.Anchors {
		pub, err := x509.ParsePKIXPublicKey(a.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: anchor %q: %v", ErrPolicy, a.Name, err)
		}
		k, err := suit.NewPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("%w: anchor %q: %v", ErrPolicy, a.Name, err)
		}
		p.Anchors = append(p.Anchors, keys.Anchor{Name: a.Name, Key: k, Prefixes: a.Prefixes, Personalization: a.Personalization})
	}
	for _, r := range sp.CoSign {
		p.CoSign = append(p.CoSign, keys.CoSign{Prefix: r.Prefix, Required: r.Required})
	}
	for i, der := range sp.TAMs {
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: TAM key %d: %v", ErrPolicy, i, err)
		}
		k, err := suit.NewPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("%w: TAM key %d: %v", ErrPolicy, i, err)
		}
		p.TAMs = append(p.TAMs, k)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	return p, nil
}

// Policy returns the trust policy sealed in the store: the anchors every
// manifest is authenticated and authorized against.
func (s *Store) Policy() (*keys.Policy, error) { return s.state.Policy.decode() }
